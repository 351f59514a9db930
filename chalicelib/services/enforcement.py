"""Restrictions on accounts: suspensions, bans, restoration, and the strike policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.adapters import clock
from chalicelib.models.audit import AuditEntry
from chalicelib.models.base import transaction
from chalicelib.models.statements import ACCOUNT_SUSPENDED, ACCOUNT_TERMINATED, Statement
from chalicelib.models.users import ACTIVE, BANNED, SUSPENDED, UserProfile
from chalicelib.observability import logger
from chalicelib.roles import ADMINS, MODERATORS
from chalicelib.services import accounts, audit, identity, lifecycle, report_days, statements
from chalicelib.services.errors import Forbidden, InvalidRequest, NotFound
from chalicelib.settings import get_settings

POLICY_ACTOR = audit.POLICY_ACTOR
ACTIONS = {"suspend": SUSPENDED, "ban": BANNED, "restore": ACTIVE}


@dataclass(frozen=True)
class Standing:
    user_id: str
    status: str
    until: str | None  # when a suspension ends (ISO-8601 UTC)
    reason: str | None
    strikes: int


def _save_status(
    user_id: str,
    status: str,
    until: datetime | None,
    event: audit.Event,
    only_if_active: bool = False,
    only_if_exists: bool = False,
    statement: Statement | None = None,
    only_if: Any = None,
) -> bool:
    """Write the account's new status and its audit entry in one transaction, so a crash or a
    retry never leaves a restriction nobody can account for (or an entry for one never made).
    False when `only_if_active` and the account was no longer active; 404 when
    `only_if_exists` and the profile is gone (erased meanwhile): nothing is created. A
    restriction's statement of reasons is written in the same transaction; `only_if`: more
    the profile must meet (False when it does not)."""
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
    condition: Any = (UserProfile.status == ACTIVE) if only_if_active else None
    if only_if_exists:
        exists = UserProfile.user_id.exists()
        condition = exists if condition is None else condition & exists
    if only_if is not None:
        condition = only_if if condition is None else condition & only_if
    profile = UserProfile(user_id)
    try:
        with transaction() as tx:
            tx.update(profile, actions=actions, condition=condition)
            tx.save(audit.entry(event), condition=AuditEntry.sk.does_not_exist())
            if statement is not None:
                tx.save(statement, condition=Statement.statement_id.does_not_exist())
                report_days.statement_made(tx, statement)
    except TransactWriteError as exc:
        # Only the profile's own condition (a clash of the audit key is no "no longer active").
        if condition is not None and tx.refused(exc, profile):
            if only_if_active or only_if is not None:
                return False
            raise NotFound() from exc
        raise
    return True


def _require_may_restrict(actor: identity.Caller, user_id: str) -> bool:
    """Who may restrict whom; True when the account has a profile to update.

    Nobody restricts (or restores) their own account. An unknown or erased user id is 404 and
    nothing is created: the target needs a profile (anyone who consented has one) or a
    sign-in account in the user pool. A moderator restricts plain users only; an operator
    also restricts moderators; nobody restricts an operator here (an operator's powers end by
    leaving the admins group first, in the user pool)."""
    if user_id == actor.user_id:
        raise Forbidden(
            "Nobody restricts or restores their own account.", details={"user_id": "yourself"}
        )
    profile, erased = accounts.profile_and_erasure(user_id)
    member = None if erased else identity.find_member(user_id)
    if erased or (profile is None and member is None):
        raise NotFound()
    roles = member.groups if member is not None else frozenset()
    if ADMINS in roles:
        raise Forbidden(
            "An operator's account is not restricted here; remove them from the admins "
            "group first.",
            details={"user_id": "an operator"},
        )
    if MODERATORS in roles and not actor.is_admin:
        raise Forbidden(
            "Only an operator restricts a moderator.", details={"user_id": "a moderator"}
        )
    return profile is not None


def restrict(
    actor: identity.Caller, user_id: str, action: str, reason: str, until: datetime | None
) -> Standing:
    """A moderator suspends (optionally until a time), bans or restores an account, within
    the rules of `_require_may_restrict`; `actor` is a moderator in good standing."""
    status = ACTIONS.get(action)
    if status is None:
        raise InvalidRequest(details={"action": "one of suspend, ban, restore"})
    if until is not None and (status != SUSPENDED or until <= clock.now()):
        raise InvalidRequest(details={"until": "only for a suspension, and in the future"})
    has_profile = _require_may_restrict(actor, user_id)
    details = {"until": clock.iso(until)} if until else None
    event = audit.Event(actor.user_id, action, "user", user_id, reason, details)
    statement = None
    if status != ACTIVE:
        statement = statements.about_account(
            user_id,
            ACCOUNT_SUSPENDED if status == SUSPENDED else ACCOUNT_TERMINATED,
            decided_by=actor.user_id,
            explanation=reason,
            facts="A moderator reviewed the account's activity.",
            end_date=until,
        )
    _save_status(user_id, status, until, event, only_if_exists=has_profile, statement=statement)
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
        clock.iso(profile.suspended_until) if profile and profile.suspended_until else None,
        profile.restriction_reason if profile else None,
        int(profile.strikes or 0) if profile else 0,
    )


def apply_strike_policy(user_id: str, cause: str, decision_id: str | None = None) -> bool:
    """Suspend an active account automatically once its strikes reach the limit; the
    statement names the decision whose strike (`decision_id`) reached it."""
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
    statement = statements.about_account(
        user_id,
        ACCOUNT_SUSPENDED,
        decided_by=POLICY_ACTOR,
        explanation=(
            f"Accounts are suspended for {settings.auto_suspend_days} days when they reach "
            f"{settings.strike_limit} strike(s)."
        ),
        facts=statements.suspension_facts(int(profile.strikes), cause),
        end_date=until,
        automated=True,
        caused_by=decision_id,
    )
    if not _save_status(user_id, SUSPENDED, until, event, only_if_active=True, statement=statement):
        return False
    logger.info("automatic suspension", extra={"user_id": user_id, "strikes": profile.strikes})
    return True


def withdraw_strike(decision: Statement, event: audit.Event) -> bool:
    """A reversed decision about something that is no image of the service's (an upload):
    its strike is withdrawn, once. The statement's `strike_withdrawn_at`, the -1 and the audit
    entry (`event`) are one transaction, conditional on the mark being absent, so a retry
    withdraws nothing twice; an erased account has no strikes to withdraw (the mark and the
    entry are still written). False when a previous try withdrew it. (An image's strike is
    withdrawn in the transaction that publishes it again: lifecycle.reverse.)"""
    now = clock.now()
    profile = UserProfile(decision.user_id)
    counted = bool(decision.strike)
    for with_profile in (counted, False):
        try:
            with transaction() as tx:
                tx.update(
                    decision,
                    actions=[Statement.strike_withdrawn_at.set(now)],
                    condition=Statement.strike_withdrawn_at.does_not_exist(),
                )
                if with_profile:
                    tx.update(
                        profile,
                        actions=[UserProfile.strikes.add(-1)],
                        condition=UserProfile.user_id.exists(),
                    )
                tx.save(audit.entry(event), condition=AuditEntry.sk.does_not_exist())
        except TransactWriteError as exc:
            if tx.refused(exc, decision):
                return False
            if with_profile and tx.refused(exc, profile):
                continue  # erased: only the mark and the entry
            raise
        return True
    return False


def lift_suspension_caused_by(decision: Statement, event: audit.Event) -> bool:
    """A reversed decision's strike no longer counts: the automatic suspension it caused (if
    any, and if the strike policy's suspension is still the account's restriction) is lifted.
    Safe to repeat."""
    if statements.suspension_caused_by(decision) is None:
        return False
    return lift(decision.user_id, SUSPENDED, event, by_policy_only=True)


def lift(
    user_id: str, restricted_as: str, event: audit.Event, by_policy_only: bool = False
) -> bool:
    """An appeal reversed a restriction: the account is active again, if it still has the
    restriction the decision made (`restricted_as`; with `by_policy_only`, one the strike
    policy made), and a ban's withheld images are back. False when it no longer has it."""
    only_if: Any = UserProfile.status == restricted_as
    if by_policy_only:
        only_if &= UserProfile.restricted_by == POLICY_ACTOR
    lifted = _save_status(user_id, ACTIVE, None, event, only_if_exists=True, only_if=only_if)
    if restricted_as == BANNED:
        lifecycle.reinstate_all(user_id)  # also when a retry finds the ban lifted already
    return lifted
