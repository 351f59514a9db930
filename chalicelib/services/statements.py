"""Statements of reasons (DSA art. 17): written with every decision that restricts a user's
content or account, read by that user, and contested through an appeal (`appeals`).

The functions here make a statement; the decision's own transaction writes it (`lifecycle`,
`enforcement`), so no decision is ever without its statement, nor a statement without its
decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters import clock, ids
from chalicelib.models.generations import Generation
from chalicelib.models.statements import (
    ACCOUNT_SUSPENDED,
    CONTENT_REMOVED,
    GROUND_ILLEGAL,
    GROUND_TERMS,
    RESTRICTIONS,
    SOURCE_NOTICE,
    SOURCE_OWN_INITIATIVE,
    SOURCE_REPORT,
    Statement,
)
from chalicelib.services import cursors
from chalicelib.services.scan_policy import REJECT, REVIEW
from chalicelib.settings import get_settings

# Categories that name a law rather than the terms' content rules.
LAWS = {
    "illegal": "the law applicable to the service (illegal content)",
    "copyright": "copyright law (the rights of the work's author)",
    "privacy": "privacy and data-protection law (the rights of the person shown)",
}
TERMS_CONTENT_CLAUSE = (
    "Terms of Service: content deemed inappropriate (sexual, violent, hateful) or illegal may be "
    "deleted, and the rights of the user who made it restricted"
)
TERMS_ACCOUNT_CLAUSE = (
    "Terms of Service: the service may restrict a user who violates the terms or behaves "
    "inappropriately"
)
HOW_TO_APPEAL = (
    "Appeal within six months under 'My decisions' (POST /me/decisions/{id}/appeal): a "
    "person who did not make this decision reviews it. You may also use an out-of-court "
    "dispute settlement body or the courts."
)


def _new(user_id: str, decision: str, **fields: Any) -> Statement:
    now = clock.now()
    statement_id = ids.new_id()
    return Statement(
        statement_id,
        user_id=user_id,
        sk=f"{clock.iso(now)}#{statement_id}",
        created_at=now,
        decision=decision,
        **fields,
    )


def about_content(
    image: Generation,
    *,
    decided_by: str,
    category: str,
    explanation: str,
    facts: str,
    automated_detection: bool,
    automated_decision: bool,
    source: str = SOURCE_OWN_INITIATIVE,
) -> Statement:
    """An image of the user's was removed (or never published): the statement of it."""
    law = LAWS.get(category)
    return _new(
        image.owner_id,
        CONTENT_REMOVED,
        ground=GROUND_ILLEGAL if law else GROUND_TERMS,
        ground_reference=law or TERMS_CONTENT_CLAUSE,
        explanation=explanation,
        category=category,
        facts=facts,
        automated_detection=automated_detection,
        automated_decision=automated_decision,
        source=source,
        image_id=image.generation_id,
        content_created_at=image.created_at,
        decided_by=decided_by,
        strike=True,
    )


def about_upload(
    user_id: str,
    upload_id: str,
    *,
    decided_by: str,
    category: str,
    explanation: str,
    facts: str,
    strike: bool,
) -> Statement:
    """An image the user uploaded was refused by the automated upload scan. The upload is no
    image of the service's, so `image_id` stays empty; `upload_id` names the upload (the owner
    sees it; the facts do not name it, as they go into the transparency database)."""
    law = LAWS.get(category)
    return _new(
        user_id,
        CONTENT_REMOVED,
        ground=GROUND_ILLEGAL if law else GROUND_TERMS,
        ground_reference=law or TERMS_CONTENT_CLAUSE,
        explanation=explanation,
        category=category,
        facts=facts,
        upload_id=upload_id,
        automated_detection=True,
        automated_decision=True,
        source=SOURCE_OWN_INITIATIVE,
        decided_by=decided_by,
        strike=strike,
    )


def about_account(
    user_id: str,
    decision: str,
    *,
    decided_by: str,
    explanation: str,
    facts: str,
    end_date: datetime | None = None,
    automated: bool = False,
    caused_by: str | None = None,
) -> Statement:
    """The user's account was suspended (until `end_date`, if any) or terminated."""
    return _new(
        user_id,
        decision,
        ground=GROUND_TERMS,
        ground_reference=TERMS_ACCOUNT_CLAUSE,
        explanation=explanation,
        category="terms",
        facts=facts,
        automated_detection=automated,
        automated_decision=automated,
        source=SOURCE_OWN_INITIATIVE,
        end_date=end_date,
        decided_by=decided_by,
        caused_by=caused_by,
    )


def outcome_of_appeal(appealed: Statement, outcome: str, moderator: str, reason: str) -> Statement:
    """An appeal was decided: the outcome is a statement of its own, naming the decision."""
    return _new(
        appealed.user_id,
        outcome,
        ground=appealed.ground,
        ground_reference=appealed.ground_reference,
        explanation=reason,
        category=appealed.category,
        facts=f"A moderator reviewed the appeal of decision {appealed.statement_id}.",
        automated_detection=False,
        automated_decision=False,
        source=appealed.source,
        image_id=appealed.image_id,
        upload_id=appealed.upload_id,
        content_created_at=appealed.content_created_at,
        decided_by=moderator,
        refers_to=appealed.statement_id,
    )


def scan_facts(scan_record: dict[str, Any]) -> str:
    """What the automated check relied on, from its record on the image."""
    if scan_record.get("label") == "prompt":
        return "The prompt was screened against the content policy and refused."
    # The labels, not their scores: how far each was from the line is a guide to getting
    # past the scan (the export leaves scores out for the same reason).
    labels = ", ".join(label["name"] for label in scan_record.get("labels", [])[:5])
    scanner = scan_record.get("scanner")
    return f"The automated image scan ({scanner}) found: {labels or 'no labels'}."


def flagged_by_scan(image: Generation) -> bool:
    """The automated scan sent the image to a person (or found it)."""
    scan = image.scan_result.as_dict() if image.scan_result is not None else {}  # type: ignore[no-untyped-call]
    return scan.get("outcome") in (REVIEW, REJECT)


def source_of(image: Generation) -> str:
    """What brought the image to the decision: a notice, users' reports, or our own checks."""
    if int(image.notice_count or 0) > 0:
        return SOURCE_NOTICE
    return SOURCE_REPORT if int(image.report_count or 0) > 0 else SOURCE_OWN_INITIATIVE


def review_facts(image: Generation) -> str:
    """What a moderator's decision on an image relied on, besides the image itself."""
    facts = ["A moderator looked at the image and its prompt."]
    if flagged_by_scan(image):
        facts.append("The automated scan had flagged it for review.")
    notices = int(image.notice_count or 0)
    if notices:
        kinds = ", ".join(sorted(image.notice_categories or [])) or "unspecified"
        facts.append(f"It was the subject of {notices} notice(s) ({kinds}).")
    reports = int(image.report_count or 0)
    if reports:
        reasons = ", ".join(sorted(image.report_reasons or [])) or "unspecified"
        facts.append(f"Users had reported it {reports} time(s) ({reasons}).")
    return " ".join(facts)


def suspension_facts(strikes: int, cause: str) -> str:
    return f"The account reached {strikes} strike(s) (the latest: {cause})."


def appeal_deadline(statement: Statement) -> datetime:
    return statement.created_at + timedelta(days=get_settings().appeal_window_days)


def appealable(statement: Statement) -> bool:
    """A restriction may be appealed; an appeal's outcome may not (courts and out-of-court
    bodies remain)."""
    return statement.decision in RESTRICTIONS


@dataclass(frozen=True)
class Shown:
    """A statement as the affected user reads it."""

    id: str
    decision: str
    ground: str
    ground_reference: str
    explanation: str
    category: str
    facts: str
    automated_detection: bool
    automated_decision: bool
    source: str
    image_id: str | None
    upload_id: str | None  # the subject's own upload (shown to them and to moderators only)
    end_date: str | None
    refers_to: str | None
    created_at: str
    how_to_appeal: str | None
    appeal_deadline: str | None
    appeal: dict[str, Any] | None


def shown(statement: Statement) -> Shown:
    may_appeal = appealable(statement)
    appeal = None
    if statement.appeal_status is not None:
        appeal = {
            "id": statement.statement_id,
            "status": statement.appeal_status,
            "filed_at": clock.iso(statement.appealed_at) if statement.appealed_at else None,
            "outcome": statement.appeal_outcome if statement.appeal_status != "open" else None,
        }
    return Shown(
        id=statement.statement_id,
        decision=statement.decision,
        ground=statement.ground,
        ground_reference=statement.ground_reference,
        explanation=statement.explanation,
        category=statement.category,
        facts=statement.facts,
        automated_detection=bool(statement.automated_detection),
        automated_decision=bool(statement.automated_decision),
        source=statement.source,
        image_id=statement.image_id,
        upload_id=statement.upload_id,
        end_date=clock.iso(statement.end_date) if statement.end_date else None,
        refers_to=statement.refers_to,
        created_at=clock.iso(statement.created_at),
        how_to_appeal=HOW_TO_APPEAL.replace("{id}", statement.statement_id) if may_appeal else None,
        appeal_deadline=clock.iso(appeal_deadline(statement)) if may_appeal else None,
        appeal=appeal,
    )


def find(statement_id: str) -> Statement | None:
    if not ids.is_id(statement_id):
        return None
    try:
        return Statement.get(statement_id, consistent_read=True)
    except Statement.DoesNotExist:
        return None


def about_user(user_id: str, limit: int, cursor: str | None) -> tuple[list[Statement], str | None]:
    """The statements about a user, newest first."""
    purpose = f"decisions:{user_id}"
    start = cursors.decode(cursor, purpose) if cursor else None
    page = Statement.by_subject.query(
        user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start
    )
    items = list(page)
    next_key = page.last_evaluated_key
    return items, (cursors.encode(next_key, purpose) if next_key else None)


def every_about(user_id: str) -> list[Statement]:
    """All statements about a user (export, erasure, the suspension a strike caused)."""
    return list(Statement.by_subject.query(user_id))


def removal_of(image: Generation) -> str | None:
    """The id of the newest statement that removed the image (None if none did)."""
    removals = [
        s
        for s in every_about(image.owner_id)
        if s.image_id == image.generation_id and s.decision == CONTENT_REMOVED
    ]
    return max(removals, key=lambda s: s.sk).statement_id if removals else None


def suspension_caused_by(statement: Statement) -> Statement | None:
    """The automatic suspension the decision's strike caused, if it did."""
    return next(
        (
            s
            for s in every_about(statement.user_id)
            if s.caused_by == statement.statement_id and s.decision == ACCOUNT_SUSPENDED
        ),
        None,
    )
