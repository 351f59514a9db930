"""Thin wrappers over boto3 and libraries, created lazily, holding no business rules."""
