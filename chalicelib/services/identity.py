"""Who is calling: bearer token → `Caller`, and role checks from the groups claim."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.adapters.token_verifier import KeysUnavailable, TokenInvalid, get_verifier
from chalicelib.observability import logger
from chalicelib.roles import ADMINS, MODERATORS
from chalicelib.services.errors import Forbidden, Unauthorized, Unavailable
from chalicelib.settings import get_settings


@dataclass(frozen=True)
class Caller:
    user_id: str
    groups: frozenset[str]

    @property
    def is_moderator(self) -> bool:
        return MODERATORS in self.groups or ADMINS in self.groups

    @property
    def is_admin(self) -> bool:
        return ADMINS in self.groups


def authenticate(authorization: str | None) -> Caller:
    """Verify the `Authorization: Bearer` header; anything short of a valid token is 401."""
    if not authorization:
        raise Unauthorized()
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    settings = get_settings()
    verifier = get_verifier(
        settings.cognito_issuer,
        settings.cognito_jwks_url,
        settings.cognito_client_ids,
        settings.token_use,
        settings.jwks_cache_seconds,
    )
    try:
        verified = verifier.verify(token.strip())
    except TokenInvalid as exc:
        logger.info("token refused", extra={"reason": str(exc)})
        raise Unauthorized() from exc
    except KeysUnavailable as exc:
        logger.warning("signing keys unavailable", extra={"reason": str(exc)})
        raise Unavailable("Sign-in cannot be checked right now.", retry_after=5) from exc
    return Caller(user_id=verified.subject, groups=verified.groups)


def require_moderator(caller: Caller) -> None:
    if not caller.is_moderator:
        raise Forbidden()


def require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden()
