"""Notices from anyone (DSA art. 16): a person with no account tells us an image is illegal or
breaks the terms. The image joins the moderation queue at once, marked with the notice, and
stays public until a moderator decides: a notice alone never hides anything. Notices on the same
image are one queue item that lists them. The notifier follows the notice through a signed
status URL (a capability, like the review links), and their name and e-mail are kept only
until the notice is decided and the appeal window has passed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.adapters import clock, ids
from chalicelib.models.base import lost_a_race, transaction
from chalicelib.models.generations import PUBLISHED, Generation, find, is_public
from chalicelib.models.notices import (
    CATEGORIES,
    DECIDED,
    RECEIVED,
    Notice,
    NoticeContact,
)
from chalicelib.services import consent, cursors, lifecycle, quota, report_days, statements
from chalicelib.services.errors import InvalidCursor, InvalidRequest, InvalidSignature, NotFound
from chalicelib.settings import get_settings

STATUS_PURPOSE = "notice-status"


@dataclass(frozen=True)
class Filed:
    id: str
    status: str
    status_token: str


@dataclass(frozen=True)
class Shown:
    """A notice as its holder of the status URL sees it."""

    id: str
    status: str
    category: str
    image_id: str
    created_at: str
    decision: dict[str, Any] | None


def _rate_key(address: str | None) -> str:
    """The notifier's network address, keyed-hashed: the rate limit's owner key."""
    return f"notice#{consent.address_hash(address) or 'unknown'}"


def file_notice(
    image_id: str,
    category: str,
    explanation: str,
    name: str,
    email: str,
    address: str | None,
) -> Filed:
    if category not in CATEGORIES:
        raise InvalidRequest(details={"category": f"one of {', '.join(CATEGORIES)}"})
    image = find(image_id, visible=is_public)
    if image is None:
        raise NotFound()  # nothing the public cannot see
    now = clock.now()
    notice = Notice(
        ids.new_id(),
        image_id=image_id,
        category=category,
        explanation=explanation,
        good_faith=True,
        status=RECEIVED,
        created_at=now,
    )
    contact = NoticeContact(
        notice.notice_id,
        name=name,
        email=email,
        expires_at=now + timedelta(days=get_settings().notice_contact_max_days),
    )
    worst = lifecycle.most_severe(
        {category, *(image.report_reasons or []), *(image.notice_categories or [])}
    )
    owner, window = _rate_key(address), quota.Window.for_notices()
    for attempt, slot in enumerate(quota.candidates(owner, window)):
        try:
            with transaction(token=f"{notice.notice_id}-{attempt}") as tx:
                tx.save(notice, condition=Notice.notice_id.does_not_exist())
                tx.save(contact)
                tx.update(
                    image,
                    actions=[
                        Generation.notice_count.add(1),
                        Generation.notice_categories.add({category}),
                        Generation.open_notice_ids.add({notice.notice_id}),
                        *lifecycle.joins_queue(image, worst),
                    ],
                    condition=Generation.status == PUBLISHED,
                )
                quota.claim(tx, owner, slot, window, notice.notice_id)
                report_days.notice_filed(tx, notice)
            break
        except TransactWriteError as exc:
            if tx.refused(exc, image):
                raise NotFound() from exc  # no longer public
            if not lost_a_race(exc):
                raise
    return Filed(
        notice.notice_id, RECEIVED, cursors.encode({"n": notice.notice_id}, STATUS_PURPOSE)
    )


def status(token: str) -> Shown:
    """What became of a notice, for whoever holds its status URL; 403 if it was tampered."""
    try:
        notice_id = str(cursors.decode(token, STATUS_PURPOSE)["n"])
    except (InvalidCursor, KeyError) as exc:
        raise InvalidSignature() from exc
    try:
        notice = Notice.get(notice_id, consistent_read=True)
    except Notice.DoesNotExist as exc:
        raise NotFound() from exc
    decision = None
    if notice.status == DECIDED:
        decision = {
            "outcome": notice.outcome,
            "decided_at": clock.iso(notice.decided_at) if notice.decided_at else None,
            "statement": _public_part(notice.statement_id),
        }
    return Shown(
        notice.notice_id,
        notice.status,
        notice.category,
        notice.image_id,
        clock.iso(notice.created_at),
        decision,
    )


def _public_part(statement_id: str | None) -> dict[str, Any] | None:
    """What the notifier is told of the decision: what, on what ground, why; not about whom."""
    statement = statements.find(statement_id) if statement_id else None
    if statement is None:
        return None
    return {
        "decision": statement.decision,
        "ground": statement.ground,
        "ground_reference": statement.ground_reference,
        "category": statement.category,
        "explanation": statement.explanation,
        "automated_decision": bool(statement.automated_decision),
    }


def open_on(image_id: str) -> list[Notice]:
    """The notices on an image that no decision has answered yet, oldest first."""
    return [n for n in Notice.by_image.query(image_id) if n.status == RECEIVED]


def open_on_each(images: list[Generation]) -> dict[str, list[Notice]]:
    """The open notices of each image, oldest first, by image id: one BatchGetItem of the ids
    the images name (100 keys a request), however many of them have notices. An image noticed
    before it named its notices' ids costs a Query of its own."""
    keys = sorted({i for image in images for i in image.open_notice_ids or ()})
    found: dict[str, list[Notice]] = {image.generation_id: [] for image in images}
    if keys:
        for notice in Notice.batch_get(keys, consistent_read=True):
            if notice.status == RECEIVED and notice.image_id in found:
                found[notice.image_id].append(notice)
    for image in images:
        if image.notice_count and not image.open_notice_ids:
            found[image.generation_id] = open_on(image.generation_id)
    for listed in found.values():
        listed.sort(key=lambda n: (n.created_at, n.notice_id))
    return found


def answer_all(image_id: str, outcome: str, statement_id: str | None) -> int:
    """A moderator decided on the image: each open notice on it is decided with the outcome,
    and its notifier's contact is kept only through the appeal window from now. Safe to
    repeat (a retry of the decision finishes it)."""
    now = clock.now()
    keep_until = now + timedelta(days=get_settings().appeal_window_days)
    answered = 0
    for notice in open_on(image_id):
        actions: list[Any] = [
            Notice.status.set(DECIDED),
            Notice.decided_at.set(now),
            Notice.outcome.set(outcome),
        ]
        if statement_id:
            actions.append(Notice.statement_id.set(statement_id))
        try:
            with transaction() as tx:  # the report's notice-to-decision wait, counted once
                tx.update(notice, actions=actions, condition=Notice.status == RECEIVED)
                report_days.notice_decided(tx, notice, now)
        except TransactWriteError as exc:
            if not tx.refused(exc, notice):
                raise
            continue  # answered meanwhile (the index lags its table), by another decision
        with contextlib.suppress(UpdateError):  # gone already: expired, nothing to shorten
            NoticeContact(notice.notice_id).update(
                actions=[NoticeContact.expires_at.set(keep_until)],
                condition=NoticeContact.notice_id.exists(),
            )
        answered += 1
    return answered
