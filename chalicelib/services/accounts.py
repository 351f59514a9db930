"""Account standing: the profile read once per request, and whether the account may act."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters import clock
from chalicelib.models.users import ACTIVE, BANNED, SUSPENDED, UserProfile
from chalicelib.services.errors import AccountRestricted


def load_profile(user_id: str) -> UserProfile | None:
    """The caller's profile, or None for someone who has never consented (one GetItem)."""
    try:
        return UserProfile.get(user_id)
    except DoesNotExist:
        return None


def effective_status(profile: UserProfile | None, now: datetime | None = None) -> str:
    """A suspension with an end time is over once that time passes."""
    if profile is None:
        return ACTIVE
    until = profile.suspended_until
    if profile.status == SUSPENDED and until is not None and (now or clock.now()) >= until:
        return ACTIVE
    return profile.status if profile.status in (ACTIVE, SUSPENDED, BANNED) else ACTIVE


def require_unrestricted(profile: UserProfile | None) -> None:
    status = effective_status(profile)
    if status != ACTIVE:
        details: dict[str, str] = {"status": status}
        if profile is not None and status == SUSPENDED and profile.suspended_until is not None:
            details["until"] = clock.iso(profile.suspended_until)
        raise AccountRestricted(f"This account is {status}.", details=details)
