"""The SageMaker async inference container: a diffusers text-to-image model server."""
