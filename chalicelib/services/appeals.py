"""Appeals (DSA art. 20): the affected user contests a decision; a person who did not make it
decides, and a reversal undoes exactly what the decision did.

An appeal lives on the statement it contests. Deciding it is three steps that a retry
finishes: claim it (open -> deciding, with the outcome, one moderator at a time), undo the
decision if reversed (each undo is safe to repeat), and close it (deciding -> decided, with the
outcome's statement and the audit entry, in one transaction).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.adapters import clock
from chalicelib.models.audit import AuditEntry
from chalicelib.models.base import refused_by_condition, transaction
from chalicelib.models.generations import find as find_image
from chalicelib.models.statements import (
    ACCOUNT_SUSPENDED,
    ACCOUNT_TERMINATED,
    CONTENT_REMOVED,
    DECIDED,
    DECISION_REVERSED,
    DECISION_UPHELD,
    OPEN,
    REVERSED,
    UPHELD,
    Statement,
)
from chalicelib.models.users import BANNED, SUSPENDED
from chalicelib.services import (
    audit,
    cursors,
    enforcement,
    lifecycle,
    moderation,
    report_days,
    statements,
    upload_scan,
    uploads,
)
from chalicelib.services.errors import (
    AlreadyAppealed,
    AppealWindowClosed,
    Conflict,
    ConflictOfInterest,
    InvalidRequest,
    NotFound,
)

DECIDING = "deciding"
QUEUE = "open"
OUTCOMES = {"uphold": (UPHELD, DECISION_UPHELD), "reverse": (REVERSED, DECISION_REVERSED)}
RESTRICTED_AS = {ACCOUNT_SUSPENDED: SUSPENDED, ACCOUNT_TERMINATED: BANNED}


@dataclass(frozen=True)
class Filed:
    id: str
    status: str


@dataclass(frozen=True)
class OpenAppeal:
    """An appeal as moderators see it: the explanation, and the decision with its statement."""

    id: str
    status: str
    filed_at: str
    explanation: str
    user_id: str
    decision: statements.Shown
    image_url: str | None
    image_url_expires_at: str | None
    # An upload's rejection: its quarantined evidence (its clean copy once ready), briefly.
    upload_url: str | None
    upload_url_expires_at: str | None


@dataclass(frozen=True)
class Outcome:
    id: str
    status: str
    outcome: str
    statement_id: str


def file(user_id: str, statement_id: str, explanation: str) -> Filed:
    """The affected user appeals one of their decisions: once, within the window."""
    statement = statements.find(statement_id)
    if statement is None or statement.user_id != user_id:
        raise NotFound()
    if not statements.appealable(statement):
        raise Conflict(
            "An appeal's outcome cannot be appealed again here; an out-of-court dispute "
            "settlement body or the courts remain.",
            details={"decision": statement.decision},
        )
    if statement.appeal_status is not None:
        raise AlreadyAppealed()
    now = clock.now()
    if now > statements.appeal_deadline(statement):
        raise AppealWindowClosed(
            details={"deadline": clock.iso(statements.appeal_deadline(statement))}
        )
    event = audit.Event(user_id, "appeal", "decision", statement_id, None)
    try:
        with transaction() as tx:
            tx.update(
                statement,
                actions=[
                    Statement.appeal_status.set(OPEN),
                    Statement.appeal_explanation.set(explanation),
                    Statement.appealed_at.set(now),
                    Statement.appeal_queue.set(QUEUE),
                    Statement.appealed_sk.set(f"{clock.iso(now)}#{statement_id}"),
                ],
                condition=Statement.appeal_status.does_not_exist(),
            )
            tx.save(audit.entry(event), condition=AuditEntry.sk.does_not_exist())
            report_days.appeal_filed(tx, now)
    except TransactWriteError as exc:
        if tx.refused(exc, statement):
            raise AlreadyAppealed() from exc
        raise
    return Filed(statement_id, OPEN)


def open_appeals(
    moderator: str, limit: int, cursor: str | None
) -> tuple[list[OpenAppeal], str | None]:
    """Appeals awaiting a person, oldest first, each with a short-lived URL of its image, or of
    its upload's evidence (each view is audited, as the queue's are)."""
    start = cursors.decode(cursor, "appeals") if cursor else None
    page = Statement.open_appeals.query(QUEUE, limit=limit, last_evaluated_key=start)
    items, views = [], []
    for statement in page:
        url = expires = upload_url = upload_expires = None
        image = find_image(statement.image_id) if statement.image_id else None
        if image is not None:
            url, expires = moderation.original_url(image)
            views.append(
                audit.Event(moderator, "view", "image", image.generation_id, "appeal review")
            )
        upload = uploads.find(statement.upload_id) if statement.upload_id else None
        if upload is not None:
            with contextlib.suppress(NotFound):  # an upload with no image left to show
                upload_url, upload_expires, view = uploads.moderator_view(
                    upload, moderator, "appeal review"
                )
                views.append(view)
        items.append(
            OpenAppeal(
                id=statement.statement_id,
                status=statement.appeal_status or OPEN,
                filed_at=clock.iso(statement.appealed_at or statement.created_at),
                explanation=statement.appeal_explanation or "",
                user_id=statement.user_id,
                decision=statements.shown(statement),
                image_url=url,
                image_url_expires_at=expires,
                upload_url=upload_url,
                upload_url_expires_at=upload_expires,
            )
        )
    if views:
        audit.record_many(views)
    next_key = page.last_evaluated_key
    return items, (cursors.encode(next_key, "appeals") if next_key else None)


def decide(moderator: str, appeal_id: str, action: str, reason: str) -> Outcome:
    """A moderator upholds or reverses a decision under appeal. Whoever made the decision, and
    the affected user, may not (403 conflict_of_interest); an automated decision's appeal
    always reaches a person here. A decided appeal is 409."""
    if action not in OUTCOMES:
        raise InvalidRequest(details={"action": "one of uphold, reverse"})
    outcome, outcome_decision = OUTCOMES[action]
    appealed = statements.find(appeal_id)
    if appealed is None or appealed.appeal_status is None:
        raise NotFound()
    if moderator in (appealed.decided_by, appealed.user_id):
        raise ConflictOfInterest(details={"appeal": "your own decision or account"})
    if appealed.appeal_status == DECIDED:
        raise Conflict(
            "This appeal has been decided.", details={"outcome": appealed.appeal_outcome}
        )
    _claim(appealed, moderator, outcome)
    if outcome == REVERSED:
        _undo(appealed, moderator, reason)
    return _close(appealed, moderator, outcome, outcome_decision, reason)


def _claim(appealed: Statement, moderator: str, outcome: str) -> None:
    """Open -> deciding, with the outcome; a retry of the same outcome passes again."""
    same = (Statement.appeal_status == DECIDING) & (Statement.appeal_outcome == outcome)
    try:
        appealed.update(
            actions=[
                Statement.appeal_status.set(DECIDING),
                Statement.appeal_outcome.set(outcome),
                Statement.appeal_decided_by.set(moderator),
            ],
            condition=(Statement.appeal_status == OPEN) | same,
        )
    except UpdateError as exc:
        if refused_by_condition(exc):
            raise Conflict("Another moderator is deciding this appeal.") from exc
        raise


def _undo(appealed: Statement, moderator: str, reason: str) -> None:
    """Exactly what the decision did, undone: the image published again, or the upload ready
    again, with its strike withdrawn (and the automatic suspension that strike caused lifted),
    or the account's restriction lifted."""
    decision_id = appealed.statement_id
    event = audit.Event(
        moderator, "restore", "user", appealed.user_id, reason, {"decision": decision_id}
    )
    if appealed.decision == CONTENT_REMOVED and appealed.image_id:
        image = find_image(appealed.image_id)
        if image is None:
            raise Conflict("The image no longer exists.")
        enforcement.lift_suspension_caused_by(appealed, event)
        lifecycle.reverse(image, moderator, reason, decision_id)
    elif appealed.decision == CONTENT_REMOVED and appealed.upload_id:
        # The strike goes, and what it caused, also when the upload itself is gone (erased or
        # expired); then the upload is ready again (upload_scan.reinstate). Each step is safe
        # to repeat.
        reversal = audit.Event(
            moderator,
            "reverse",
            "upload",
            appealed.upload_id,
            reason,
            {"decision": decision_id, "strike": bool(appealed.strike)},
        )
        enforcement.withdraw_strike(appealed, reversal)
        enforcement.lift_suspension_caused_by(appealed, event)
        upload_scan.reinstate(appealed.upload_id, appealed)
    elif appealed.decision in RESTRICTED_AS:
        by_policy = appealed.decided_by == audit.POLICY_ACTOR
        enforcement.lift(
            appealed.user_id, RESTRICTED_AS[appealed.decision], event, by_policy_only=by_policy
        )


def _close(
    appealed: Statement, moderator: str, outcome: str, outcome_decision: str, reason: str
) -> Outcome:
    now = clock.now()
    told = statements.outcome_of_appeal(appealed, outcome_decision, moderator, reason)
    event = audit.Event(
        moderator,
        f"appeal_{outcome}",
        "decision",
        appealed.statement_id,
        reason,
        {"outcome_statement": told.statement_id},
    )
    try:
        with transaction() as tx:
            tx.update(
                appealed,
                actions=[
                    Statement.appeal_status.set(DECIDED),
                    Statement.appeal_reason.set(reason),
                    Statement.appeal_decided_at.set(now),
                    Statement.appeal_queue.remove(),
                    Statement.appealed_sk.remove(),
                ],
                condition=(Statement.appeal_status == DECIDING)
                & (Statement.appeal_outcome == outcome),
            )
            tx.save(told, condition=Statement.statement_id.does_not_exist())
            tx.save(audit.entry(event), condition=AuditEntry.sk.does_not_exist())
            report_days.appeal_decided(tx, now, outcome)
    except TransactWriteError as exc:
        if tx.refused(exc, appealed):
            raise Conflict("This appeal has been decided.") from exc
        raise
    return Outcome(appealed.statement_id, DECIDED, outcome, told.statement_id)
