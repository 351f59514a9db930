"""Restrictions on accounts: suspensions, bans, restoration, and the strike policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.adapters import clock
from chalicelib.models.audit import AuditEntry
from chalicelib.models.base import transaction
from chalicelib.models.users import ACTIVE, BANNED, SUSPENDED, UserProfile
from chalicelib.observability import logger
from chalicelib.services import accounts, audit, lifecycle
from chalicelib.services.errors import InvalidRequest
from chalicelib.settings import get_settings

POLICY_ACTOR = "policy"
ACTIONS = {"suspend": SUSPENDED, "ban": BANNED, "restore": ACTIVE}


@dataclass(frozen=True)
class Standing:
    user_id: str
    status: str
    until: datetime | None
    reason: str | None
    strikes: int

    def view(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "status": self.status,
            "until": clock.iso(self.until) if self.until else None,
            "reason": self.reason,
            "strikes": self.strikes,
        }


def _save_status(
    user_id: str,
    status: str,
    until: datetime | None,
    event: audit.Event,
    only_if_active: bool = False,
) -> bool:
    """Write the account's new status and its audit entry in one transaction, so a crash or a
    retry never leaves a restriction nobody can account for (or an entry for one never made).
    False when `only_if_active` and the account was no longer active."""
    now = clock.now()
    actions: list[Any] = [
        UserProfile.status.set(status),
        UserProfile.restriction_reason.set(event.reason or ""),
        UserProfile.restricted_by.set(event.actor),
        UserProfile.restricted_at.set(now),
        UserProfile.updated_at.set(now),
        UserProfile.created_at.set(UserProfile.created_at | now),
        UserProfile.strikes.set(UserProfile.strikes | 0),
    ]
    actions.append(
        UserProfile.suspended_until.set(until) if until else UserProfile.suspended_until.remove()
    )
    condition = (UserProfile.status == ACTIVE) if only_if_active else None
    profile = UserProfile(user_id)
    try:
        with transaction() as tx:
            tx.update(profile, actions=actions, condition=condition)
            tx.save(audit.entry(event), condition=AuditEntry.sk.does_not_exist())
    except TransactWriteError as exc:
        # Only the profile's own condition (a clash of the audit key is no "no longer active").
        if only_if_active and tx.refused(exc, profile):
            return False
        raise
    return True


def restrict(
    actor: str, user_id: str, action: str, reason: str, until: datetime | None
) -> Standing:
    """A moderator suspends (optionally until a time), bans or restores an account."""
    status = ACTIONS.get(action)
    if status is None:
        raise InvalidRequest(details={"action": "one of suspend, ban, restore"})
    if until is not None and (status != SUSPENDED or until <= clock.now()):
        raise InvalidRequest(details={"until": "only for a suspension, and in the future"})
    details = {"until": clock.iso(until)} if until else None
    _save_status(
        user_id, status, until, audit.Event(actor, action, "user", user_id, reason, details)
    )
    # A ban takes the creator's published images out of every public read; lifting it puts
    # them back; a suspension only stops new work (lifecycle.py). Both are safe to repeat.
    if status == BANNED:
        lifecycle.withhold_all(user_id)
    else:
        lifecycle.reinstate_all(user_id)
    return standing(user_id)


def standing(user_id: str) -> Standing:
    profile = accounts.load_profile(user_id, fresh=True, refuse_erased=False)
    return Standing(
        user_id,
        accounts.effective_status(profile),
        profile.suspended_until if profile else None,
        profile.restriction_reason if profile else None,
        int(profile.strikes or 0) if profile else 0,
    )


def apply_strike_policy(user_id: str, cause: str) -> bool:
    """Suspend an active account automatically once its strikes reach the limit."""
    settings = get_settings()
    profile = accounts.load_profile(user_id, fresh=True, refuse_erased=False)
    if profile is None or int(profile.strikes or 0) < settings.strike_limit:
        return False
    if accounts.effective_status(profile) != ACTIVE:
        return False
    until = clock.now() + timedelta(days=settings.auto_suspend_days)
    reason = f"{int(profile.strikes)} strikes (latest: {cause})"
    event = audit.Event(
        POLICY_ACTOR,
        "suspend",
        "user",
        user_id,
        reason,
        {"until": clock.iso(until), "strikes": int(profile.strikes)},
    )
    if not _save_status(user_id, SUSPENDED, until, event, only_if_active=True):
        return False
    logger.info("automatic suspension", extra={"user_id": user_id, "strikes": profile.strikes})
    return True
