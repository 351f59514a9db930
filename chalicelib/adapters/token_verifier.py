"""Verification of Cognito-issued JWTs (RS256) against the user pool's JWKS.

The same code runs in AWS (the pool's JWKS on cognito-idp) and locally (the emulator's pool),
so the API answers bad tokens identically in both worlds. PyJWT and cryptography are imported
on first use: they cost ~40 ms, which routes that need no token should not pay at cold start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.once import built_once

if TYPE_CHECKING:
    from jwt import PyJWKClient


class TokenInvalid(Exception):
    """The token is missing, malformed, forged, expired or not meant for this API."""


class KeysUnavailable(Exception):
    """The JWKS could not be fetched, so no token can be checked right now."""


@dataclass(frozen=True)
class VerifiedToken:
    subject: str
    groups: frozenset[str]
    claims: dict[str, Any]


class TokenVerifier:
    """Checks signature, expiry, issuer, client id and token use of a bearer token."""

    def __init__(
        self,
        issuer: str,
        jwks_url: str,
        client_ids: tuple[str, ...],
        token_use: str = "access",
        cache_seconds: int = 300,
    ) -> None:
        self._issuer = issuer
        self._client_ids = frozenset(client_ids)
        self._token_use = token_use
        from jwt import PyJWKClient

        # The JWK Set cache (refetched once `cache_seconds` have passed, or early for an unknown
        # kid) is the only cache: PyJWT's per-key cache (`cache_keys`) never expires, so a key
        # withdrawn from the JWKS would stay trusted for the life of the process.
        self._jwks: PyJWKClient = PyJWKClient(
            jwks_url, cache_keys=False, lifespan=cache_seconds, timeout=5
        )

    def verify(self, token: str) -> VerifiedToken:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenInvalid("malformed token") from exc
        if header.get("alg") != "RS256":
            raise TokenInvalid("unexpected algorithm")
        try:
            key = self._jwks.get_signing_key(str(header.get("kid", "")))
        except jwt.PyJWKClientConnectionError as exc:
            raise KeysUnavailable(str(exc)) from exc
        except jwt.PyJWTError as exc:
            raise TokenInvalid("unknown signing key") from exc
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "iss"], "verify_aud": False},
                leeway=5,
            )
        except jwt.PyJWTError as exc:
            raise TokenInvalid(type(exc).__name__) from exc
        if claims.get("token_use") != self._token_use:
            raise TokenInvalid("wrong token use")
        audience = claims.get("client_id") if self._token_use == "access" else claims.get("aud")
        if audience not in self._client_ids:
            raise TokenInvalid("token issued to another client")
        groups = claims.get("cognito:groups") or []
        if not isinstance(groups, list):
            raise TokenInvalid("malformed groups claim")
        return VerifiedToken(
            subject=str(claims["sub"]), groups=frozenset(map(str, groups)), claims=claims
        )


@built_once
def get_verifier(
    issuer: str, jwks_url: str, client_ids: tuple[str, ...], token_use: str, cache_seconds: int
) -> TokenVerifier:
    """One verifier (and so one JWKS cache) per configuration, for the life of the process."""
    return TokenVerifier(issuer, jwks_url, client_ids, token_use, cache_seconds)
