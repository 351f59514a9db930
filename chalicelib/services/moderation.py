"""Human moderation: the review queue, decisions, and signed review links.

Every time a moderator is handed a URL of an image, that view is written to the audit log:
the terms promise operators view images only to run the service, and this is the proof.
Nobody decides on their own image. A review link can be revoked: every link of an image
minted up to that moment stops opening; the check reads the image the link names anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.adapters import clock, storage
from chalicelib.models.audit import AuditEntry
from chalicelib.models.base import transaction
from chalicelib.models.generations import IN_REVIEW, PUBLISHED, REMOVED, Generation, find
from chalicelib.models.notices import OUTCOME_NO_ACTION, OUTCOME_REMOVED, Notice
from chalicelib.services import audit, consent, cursors, lifecycle, notices, review_links
from chalicelib.services.errors import Forbidden, InvalidRequest, LinkExpired, NotFound
from chalicelib.settings import get_settings

CATEGORIES = ("sexual", "violent", "hateful", "illegal", "copyright", "privacy", "other")


def original_url(image: Generation) -> tuple[str, str]:
    """A URL of the private original for at most 15 minutes, and when it expires."""
    settings = get_settings()
    seconds = min(settings.review_url_seconds, 900)
    url = storage.presigned_get(settings.originals_bucket, image.output_key, seconds=seconds)
    return url, clock.iso(clock.from_epoch(clock.epoch() + seconds))


def _flags(image: Generation) -> dict[str, Any]:
    scan = image.scan_result.as_dict() if image.scan_result is not None else {}  # type: ignore[no-untyped-call]
    return {
        "category": image.category,
        "scanner": scan.get("scanner"),
        "outcome": scan.get("outcome"),
        "label": scan.get("label"),
        "score": scan.get("score"),
        "labels": scan.get("labels", []),
    }


def _reports(image: Generation) -> dict[str, Any]:
    return {"count": int(image.report_count or 0), "reasons": sorted(image.report_reasons or [])}


def _notices(open_notices: list[Notice]) -> list[dict[str, Any]]:
    """The open notices on the image, merged into its one queue item (no notifier's contact:
    moderators decide on the content)."""
    return [
        {
            "id": n.notice_id,
            "category": n.category,
            "explanation": n.explanation,
            "created_at": clock.iso(n.created_at),
        }
        for n in open_notices
    ]


@dataclass(frozen=True)
class ShownForReview:
    """What a moderator is shown of an image: its prompt, the scan's flags, its reports."""

    image_id: str
    prompt: str
    created_at: str
    flags: dict[str, Any]
    reports: dict[str, Any]
    notices: list[dict[str, Any]]

    @classmethod
    def of(cls, image: Generation, open_notices: list[Notice] | None = None) -> dict[str, Any]:
        """The shown fields; `open_notices` when the caller read a page's at once."""
        if open_notices is None:
            open_notices = notices.open_on_each([image])[image.generation_id]
        return {
            "image_id": image.generation_id,
            "prompt": image.prompt,
            "created_at": clock.iso(image.created_at),
            "flags": _flags(image),
            "reports": _reports(image),
            "notices": _notices(open_notices),
        }


@dataclass(frozen=True)
class QueueItem(ShownForReview):
    """An image awaiting a moderator, with a short-lived URL of its private original."""

    creator: str
    review_url: str
    review_url_expires_at: str
    # Image-to-image from the creator's upload: a short-lived URL of that upload (the clean
    # copy), to see beside the output, expiring with review_url; each view is audited.
    upload_url: str | None = None


def _upload_url(image: Generation, moderator: str) -> str | None:
    """The upload an image was made from, for a moderator (audited); None for text-to-image
    or an upload no longer kept."""
    if not image.init_upload:
        return None
    from chalicelib.services import uploads

    try:
        return uploads.moderator_view_url(
            uploads.owned(image.owner_id, image.init_upload), moderator
        )
    except NotFound:
        return None


@dataclass(frozen=True)
class LinkedItem(ShownForReview):
    """The one item a signed review link shows."""

    status: str
    image_url: str
    image_url_expires_at: str


@dataclass(frozen=True)
class LookedUp(ShownForReview):
    """Any image, in any state, as a moderator who looked it up sees it: an appeal of a
    rejection or a removal is decided on sight."""

    creator: str
    status: str
    category: str | None
    image_url: str | None  # None when no original is kept (a failure, an erasure)
    image_url_expires_at: str | None


@dataclass(frozen=True)
class Decision:
    image_id: str
    status: str
    category: str | None  # why, once removed


@dataclass(frozen=True)
class ReviewLink:
    url: str
    expires_at: str
    link_id: str


def queue(moderator: str, limit: int, cursor: str | None) -> tuple[list[QueueItem], str | None]:
    """Items awaiting a human, most urgent first: one query, one batch read of the page's open
    notices, one batch of audit writes."""
    start = cursors.decode(cursor, lifecycle.QUEUE) if cursor else None
    result = Generation.review_queue.query(lifecycle.QUEUE, limit=limit, last_evaluated_key=start)
    # The index lags its table for a moment: an image decided a moment ago is left out.
    images = [image for image in result if _still_waiting(image)]
    open_notices = notices.open_on_each(images)
    items = []
    for image in images:
        url, expires = original_url(image)
        items.append(
            QueueItem(
                **ShownForReview.of(image, open_notices[image.generation_id]),
                creator=image.owner_id,
                review_url=url,
                review_url_expires_at=expires,
                upload_url=_upload_url(image, moderator),
            )
        )
    if images:
        audit.record_many(
            [
                audit.Event(moderator, "view", "image", image.generation_id, "moderation queue")
                for image in images
            ]
        )
    next_key = result.last_evaluated_key
    return items, cursors.encode(next_key, lifecycle.QUEUE) if next_key else None


def _still_waiting(image: Generation) -> bool:
    """In review, or published with reports or notices no decision has answered yet."""
    pending = int(image.report_count or 0) + int(image.notice_count or 0)
    return image.status == IN_REVIEW or (image.status == PUBLISHED and pending > 0)


def _load(image_id: str) -> Generation:
    generation = find(image_id)
    if generation is None:
        raise NotFound()
    return generation


def decide(
    moderator: str, image_id: str, action: str, reason: str, category: str | None
) -> Decision:
    """Approve (publish) an image in review, or remove a published or in-review one. Nobody
    decides on their own image (403 forbidden)."""
    image = _load(image_id)
    if image.owner_id == moderator:
        raise Forbidden(
            "Nobody decides on their own content; another moderator will.",
            details={"image_id": "your own"},
        )
    if category is not None and category not in CATEGORIES:
        raise InvalidRequest(details={"category": f"one of {', '.join(CATEGORIES)}"})
    if action == "approve" and image.status == PUBLISHED:
        lifecycle.dismiss(image, moderator, reason)  # reported, and kept up
        notices.answer_all(image_id, OUTCOME_NO_ACTION, None)
    elif action == "approve":
        details = {"category": category} if category else None
        lifecycle.approve(image, moderator, reason, details)
        notices.answer_all(image_id, OUTCOME_NO_ACTION, None)
    elif action == "remove":
        statement_id = lifecycle.remove(image, moderator, reason, category)
        notices.answer_all(image_id, OUTCOME_REMOVED, statement_id)
    else:
        raise InvalidRequest(details={"action": "one of approve, remove"})
    image.refresh(consistent_read=True)
    category_now = image.category if image.status == REMOVED else None
    return Decision(image_id, image.status, category_now)


def look_up(moderator: str, image_id: str, reason: str) -> LookedUp:
    """A moderator opens any image, whatever its state, for a stated reason; the view is
    audited with it, as every moderator's view is."""
    image = _load(image_id)
    url = expires = None
    if storage.exists(get_settings().originals_bucket, image.output_key):
        url, expires = original_url(image)
    audit.record(audit.Event(moderator, "view", "image", image_id, f"look-up: {reason}"))
    return LookedUp(
        **ShownForReview.of(image),
        creator=image.owner_id,
        status=image.status,
        category=image.category,
        image_url=url,
        image_url_expires_at=expires,
    )


def mint_link(moderator: str, image_id: str, base_url: str) -> ReviewLink:
    """A signed link to one item; its id and minter are written to the audit log, so every
    view through it can be traced back to who handed it out."""
    _load(image_id)
    link = review_links.mint(image_id, moderator)
    expires_at = clock.iso(clock.from_epoch(link.expires_at))
    audit.record(
        audit.Event(
            moderator,
            "review_link",
            "image",
            image_id,
            "link minted",
            {"expires_at": expires_at, "link_id": link.link_id},
        )
    )
    return ReviewLink(f"{base_url.rstrip('/')}/review/{link.token}", expires_at, link.link_id)


def revoke_links(moderator: str, image_id: str, reason: str | None = None) -> None:
    """Every review link of the image minted until now stops opening (410 link_expired);
    links minted later open as usual. The revocation and its audit entry are one write."""
    image = _load(image_id)
    now = clock.now()
    event = audit.Event(
        moderator,
        "revoke_review_links",
        "image",
        image_id,
        reason or "review links revoked",
        {"revoked_at": clock.iso(now)},
    )
    try:
        with transaction() as tx:
            tx.update(
                image,
                actions=[Generation.review_links_revoked_at.set(now)],
                condition=Generation.generation_id.exists(),
            )
            tx.save(audit.entry(event), condition=AuditEntry.sk.does_not_exist())
    except TransactWriteError as exc:
        if tx.refused(exc, image):
            raise NotFound() from exc  # erased meanwhile
        raise


def _revoked(image: Generation, grant: review_links.Grant) -> bool:
    revoked = image.review_links_revoked_at
    return revoked is not None and grant.minted_at_ms <= int(revoked.timestamp() * 1000)


def open_link(token: str, opened_by: str | None, address: str | None) -> LinkedItem:
    """The one item a signed link grants sight of. The view is audited with the link's id,
    a keyed hash of the opener's network address and, when a moderator opened it signed in,
    their user id (otherwise the entry names the moderator who minted it)."""
    grant = review_links.verify(token)
    image = _load(grant.image_id)
    if _revoked(image, grant):
        raise LinkExpired(
            "This link has been revoked; ask a moderator for a new one.",
            details={"revoked": True},
        )
    if image.status not in (PUBLISHED, IN_REVIEW):
        raise NotFound()
    url, expires = original_url(image)
    details = {"link_id": grant.link_id, "address_hash": consent.address_hash(address)}
    audit.record(
        audit.Event(
            opened_by or audit.link_actor(grant.minted_by),
            "view",
            "image",
            image.generation_id,
            "signed review link",
            {k: v for k, v in details.items() if v},
        )
    )
    return LinkedItem(
        **ShownForReview.of(image),
        status=image.status,
        image_url=url,
        image_url_expires_at=expires,
    )
