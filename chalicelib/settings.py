"""One typed settings object, read from the environment.

Every resource name, endpoint and limit the application uses comes from here. The same names
are used by the local stack to create its resources and by the infrastructure code to wire the
deployed functions, so the two worlds cannot drift apart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import lru_cache

PREFIX = "OBJEKTIFY_"


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    stage: str = "local"
    region: str = "us-east-1"
    # Tables (DynamoDB)
    users_table: str = ""
    terms_table: str = ""
    consents_table: str = ""
    consent_evidence_table: str = ""
    # Sign-in: a Cognito user pool (moto's locally). The JWKS URL is its own setting because
    # the issuer claim always names the AWS host while the keys are served by the emulator.
    cognito_issuer: str = ""
    cognito_jwks_url: str = ""
    cognito_client_ids: tuple[str, ...] = ()
    cognito_user_pool_id: str = ""
    token_use: str = "access"
    jwks_cache_seconds: int = 300
    # Keyed hashing of network addresses kept as consent evidence.
    address_hash_key: str = field(default="", repr=False)
    address_retention_days: int = 180
    # Caches that keep the per-request cost of the consent check at one read.
    terms_cache_seconds: int = 5
    # HTTP
    max_body_bytes: int = 262_144
    cors_origins: tuple[str, ...] = ()

    def table_name(self, suffix: str) -> str:
        return f"objektify-{self.stage}-{suffix}"

    @classmethod
    def from_env(cls) -> Settings:
        stage = os.environ.get(PREFIX + "STAGE", "local")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        base = cls(stage=stage, region=region)
        values: dict[str, object] = {"stage": stage, "region": region}
        for f in fields(cls):
            if f.name in values:
                continue
            default = getattr(base, f.name)
            if f.name.endswith("_table"):
                default = base.table_name(f.name.removesuffix("_table").replace("_", "-"))
            raw = os.environ.get(PREFIX + f.name.upper())
            if raw is None:
                values[f.name] = default
            elif isinstance(default, bool):
                values[f.name] = raw.lower() in ("1", "true", "yes", "on")
            elif isinstance(default, int):
                values[f.name] = int(raw)
            elif isinstance(default, tuple):
                values[f.name] = _csv(raw)
            else:
                values[f.name] = raw
        return cls(**values)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings.from_env()
