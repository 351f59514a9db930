"""The AWS CDK app that deploys the whole service (see README.md, "Deploying to AWS")."""
