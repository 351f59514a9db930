"""Who is calling: bearer token or personal API key → `Caller`; role checks from the groups
claim and the caller's standing; who holds a role, from the user pool."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.adapters import user_pool
from chalicelib.adapters.token_verifier import KeysUnavailable, TokenInvalid, get_verifier
from chalicelib.models.users import ACTIVE
from chalicelib.observability import logger
from chalicelib.roles import ADMINS, GROUPS, MODERATORS
from chalicelib.services import accounts, api_keys
from chalicelib.services.errors import Forbidden, Unauthorized, Unavailable
from chalicelib.settings import get_settings

# What a personal API key may call, by (method, route as the app registers it): `read` the
# owner's own things, `generate` what creating needs. Every other route, moderators' and
# operators' above all, and the key and account management routes (a key cannot make keys,
# export or erase the account), is 403 for a key whatever its owner's roles.
KEY_ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/generations"): "generate",
    ("GET", "/me"): "read",
    ("GET", "/generations/{generation_id}"): "read",
    ("GET", "/me/generations"): "read",
    ("GET", "/me/decisions"): "read",
    ("GET", "/me/webhook"): "read",
    ("GET", "/gallery/{image_id}"): "read",  # the public detail with liked_by_me
    # Image-to-image from a script: its picture goes up first.
    ("POST", "/uploads"): "generate",
    ("GET", "/uploads/{upload_id}"): "read",
}


@dataclass(frozen=True)
class Caller:
    user_id: str
    groups: frozenset[str]
    # None for a signed-in session; a personal API key's scopes otherwise (it holds no groups).
    scopes: frozenset[str] | None = None
    key_id: str | None = None

    @property
    def is_moderator(self) -> bool:
        return MODERATORS in self.groups or ADMINS in self.groups

    @property
    def is_admin(self) -> bool:
        return ADMINS in self.groups


def authenticate(authorization: str | None, route: tuple[str, str] | None = None) -> Caller:
    """Verify the `Authorization: Bearer` header; anything short of a valid token or API key
    is 401. An API key is accepted only on a `route` (method, registered path) its scopes
    allow, else 403; where no route is named (a WebSocket connect, a route that only names
    its caller if it can) a key is not a credential at all."""
    if not authorization:
        raise Unauthorized()
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    if api_keys.looks_like_key(token.strip()):
        return _key_caller(token.strip(), route)
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


def _key_caller(key: str, route: tuple[str, str] | None) -> Caller:
    if route is None:
        raise Unauthorized()
    holder = api_keys.verify(key)
    needed = KEY_ROUTES.get(route)
    if needed is None or needed not in holder.scopes:
        raise Forbidden(
            "This API key does not allow this request.",
            details={"scopes": sorted(holder.scopes), "needed": needed},
        )
    # Never the owner's groups: a key does not reach moderators' or operators' powers.
    return Caller(holder.user_id, frozenset(), scopes=holder.scopes, key_id=holder.key_id)


def identify(authorization: str | None) -> Caller | None:
    """The caller on a route that needs no token, if one came and holds: a missing, bad or
    erased account's token names nobody rather than refusing what the route grants anyway."""
    if not authorization:
        return None
    try:
        caller = authenticate(authorization)
        accounts.load_profile(caller.user_id)
    except (Unauthorized, Unavailable):
        return None
    return caller


def _require_good_standing(caller: Caller) -> None:
    """A role acts only through an account in good standing: a suspended or banned moderator
    or operator keeps the group but not its powers (403 account_restricted)."""
    accounts.require_unrestricted(accounts.load_profile(caller.user_id))


def require_moderator(caller: Caller) -> None:
    if not caller.is_moderator:
        raise Forbidden()
    _require_good_standing(caller)


def require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden()
    _require_good_standing(caller)


def acts_as_moderator(caller: Caller) -> bool:
    """Whether a moderator's powers apply outside the moderation routes (a delete that is a
    removal): only for a moderator in good standing."""
    if not caller.is_moderator:
        return False
    return accounts.effective_status(accounts.load_profile(caller.user_id)) == ACTIVE


@dataclass(frozen=True)
class Member:
    """A sign-in account of the user pool and the role groups it belongs to."""

    user_id: str
    groups: frozenset[str]


def find_member(user_id: str) -> Member | None:
    """The user pool's account with this user id (its `sub`), or None if the pool has none.
    Without a configured pool nobody is found, and nobody holds a role."""
    pool = get_settings().cognito_user_pool_id
    if not pool:
        return None
    username = user_pool.username_of(pool, user_id)
    if username is None:
        return None
    return Member(user_id, user_pool.groups_of(pool, username) & frozenset(GROUPS))
