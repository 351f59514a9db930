"""Hand-made tokens for the sign-in tests: the emulator's own signing key (so only the claim
under test is wrong) and keys nobody trusts."""

from __future__ import annotations

import gzip
import json
import time
from importlib import resources
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from local.config import StackState


def emulator_private_jwk() -> dict[str, Any]:
    """The key moto's Cognito signs with (kid `dummy`), shipped inside moto."""
    raw = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    return dict(json.loads(gzip.decompress(raw)))


def claims_for(state: StackState, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": f"https://cognito-idp.{state.region}.amazonaws.com/{state.user_pool_id}",
        "sub": "00000000-0000-4000-8000-000000000001",
        "client_id": state.client_id,
        "token_use": "access",
        "iat": now,
        "auth_time": now,
        "exp": now + 600,
        "cognito:groups": [],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def signed_by_emulator(claims: dict[str, Any], kid: str = "dummy") -> str:
    key = jwt.PyJWK(emulator_private_jwk()).key
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def signed_by_stranger(claims: dict[str, Any], kid: str = "dummy") -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
