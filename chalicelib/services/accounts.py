"""Account standing: the profile read once per request, and whether the account may act."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from chalicelib.adapters import clock
from chalicelib.models.users import ACTIVE, BANNED, SUSPENDED, UserProfile, erased_marker_key
from chalicelib.services.errors import AccountRestricted, Unauthorized

_memo: ContextVar[dict[str, UserProfile | None] | None] = ContextVar("profiles", default=None)


@contextmanager
def request_scope() -> Iterator[None]:
    """Within one request, a profile is read once, however many rules look at it."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def load_profile(
    user_id: str, fresh: bool = False, refuse_erased: bool = True
) -> UserProfile | None:
    """The profile (None before a first consent), read with the erasure marker in one
    BatchGetItem. An erased account's tokens are refused until they have all expired."""
    memo = _memo.get()
    if memo is not None and not fresh and user_id in memo:
        return memo[user_id]
    profile, erased = profile_and_erasure(user_id)
    if erased and refuse_erased:
        raise Unauthorized("This account has been erased.")
    if memo is not None:
        memo[user_id] = profile
    return profile


def profile_and_erasure(user_id: str) -> tuple[UserProfile | None, bool]:
    """(the profile, whether the account is erased), read fresh in one consistent
    BatchGetItem: the profile is None before a first consent and after an erasure."""
    marker = erased_marker_key(user_id)
    found = {p.user_id: p for p in UserProfile.batch_get([user_id, marker], consistent_read=True)}
    return found.get(user_id), marker in found


def effective_status(profile: UserProfile | None, now: datetime | None = None) -> str:
    """A suspension with an end time is over once that time passes."""
    if profile is None:
        return ACTIVE
    until = profile.suspended_until
    if profile.status == SUSPENDED and until is not None and (now or clock.now()) >= until:
        return ACTIVE
    return profile.status if profile.status in (ACTIVE, SUSPENDED, BANNED) else ACTIVE


def active_condition(now: datetime | None = None) -> Any:
    """`effective_status(profile) == ACTIVE` as a DynamoDB condition on the profile, for a
    write that must only happen while the account is in good standing (a missing profile,
    an erased account, fails it)."""
    moment = now or clock.now()
    return (UserProfile.status == ACTIVE) | (
        (UserProfile.status == SUSPENDED) & (UserProfile.suspended_until <= moment)
    )


def require_unrestricted(profile: UserProfile | None) -> None:
    status = effective_status(profile)
    if status != ACTIVE:
        details: dict[str, str] = {"status": status}
        if profile is not None and status == SUSPENDED and profile.suspended_until is not None:
            details["until"] = clock.iso(profile.suspended_until)
        raise AccountRestricted(f"This account is {status}.", details=details)
