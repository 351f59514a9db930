"""boto3 clients, created lazily (boto3 costs ~130 ms at import) and once per process.

Endpoints come from boto3's own `AWS_ENDPOINT_URL*` settings, so the same code reaches AWS or
the local emulator. Retries use botocore's retry modes from settings.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.settings import get_settings


@lru_cache(maxsize=16)
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    config = Config(
        region_name=settings.region,
        retries={"mode": settings.aws_retry_mode, "max_attempts": settings.aws_max_attempts},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=32,
        signature_version="s3v4" if service == "s3" else None,
    )
    return boto3.session.Session().client(service, config=config)
