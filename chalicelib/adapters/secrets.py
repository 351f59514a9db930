"""Application keys: from the environment (locally) or Secrets Manager (in AWS, where settings
name the secrets), cached for a few minutes so that a key put first in the list reaches every
function soon without a read per request."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.settings import get_settings

CACHE_SECONDS = 300


@lru_cache(maxsize=1)
def _provider() -> Any:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from chalicelib.adapters.aws import client

    return SecretsProvider(boto3_client=client("secretsmanager"))


def _secret(secret_id: str) -> str:
    return str(_provider().get(secret_id, max_age=CACHE_SECONDS)).strip()


def signing_keys() -> tuple[str, ...]:
    """The keys that sign cursors and links: the first signs, all verify."""
    settings = get_settings()
    if settings.signing_keys:
        return settings.signing_keys
    if settings.signing_keys_secret:
        return tuple(
            k.strip() for k in _secret(settings.signing_keys_secret).split(",") if k.strip()
        )
    return ()


def address_hash_key() -> str:
    settings = get_settings()
    if settings.address_hash_key:
        return settings.address_hash_key
    if settings.address_hash_key_secret:
        return _secret(settings.address_hash_key_secret)
    return ""
