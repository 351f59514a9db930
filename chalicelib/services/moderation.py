"""Human moderation: the review queue, decisions, and signed review links.

Every time a moderator is handed a URL of an image, that view is written to the audit log:
the terms promise operators view images only to run the service, and this is the proof.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters import clock, ids, storage
from chalicelib.models.generations import IN_REVIEW, PUBLISHED, REMOVED, Generation
from chalicelib.services import audit, cursors, enforcement, gallery, review_links
from chalicelib.services.errors import Conflict, InvalidRequest, NotFound
from chalicelib.settings import get_settings

QUEUE = "queue"
SEVERITY = {"illegal": 0, "sexual": 1, "hateful": 2, "violent": 3}
REPORTED_RANK = 4
CATEGORIES = ("sexual", "violent", "hateful", "illegal", "copyright", "privacy", "other")


def review_rank(category: str | None, created_at_iso: str) -> str:
    rank = SEVERITY.get(category or "", REPORTED_RANK)
    return f"{rank}#{created_at_iso}"


def send_to_review(
    image: Generation,
    category: str | None,
    from_states: tuple[str, ...],
    extra: list[Any] | None = None,
) -> bool:
    """Out of public view (if public) and into the queue, in one transaction."""
    actions = [
        *(extra or []),
        Generation.status.set(IN_REVIEW),
        Generation.review_shard.set(QUEUE),
        Generation.review_rank.set(review_rank(category, clock.iso(image.created_at))),
        Generation.deadline_at.remove(),
        Generation.sweep_shard.remove(),
    ]
    if category:
        actions.append(Generation.category.set(category))
    return gallery.unpublish(image, actions, from_states)


def _original_url(image: Generation) -> tuple[str, str]:
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


def queue(
    moderator: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Items awaiting a human, most urgent first: one query, one batch of audit writes."""
    start = cursors.decode(cursor, QUEUE) if cursor else None
    result = Generation.review_queue.query(QUEUE, limit=limit, last_evaluated_key=start)
    images = list(result)
    items = []
    for image in images:
        url, expires = _original_url(image)
        items.append(
            {
                "image_id": image.generation_id,
                "creator": image.owner_id,
                "prompt": image.prompt,
                "created_at": clock.iso(image.created_at),
                "flags": _flags(image),
                "reports": _reports(image),
                "review_url": url,
                "review_url_expires_at": expires,
            }
        )
    if images:
        audit.record_many(
            [
                audit.Event(moderator, "view", "image", image.generation_id, "moderation queue")
                for image in images
            ]
        )
    next_key = result.last_evaluated_key
    return items, cursors.encode(next_key, QUEUE) if next_key else None


def _load(image_id: str) -> Generation:
    if not ids.is_id(image_id):
        raise NotFound()
    try:
        return Generation.get(image_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound() from exc


def decide(
    moderator: str, image_id: str, action: str, reason: str, category: str | None
) -> dict[str, Any]:
    """Approve (publish) an image in review, or remove a published or in-review one."""
    image = _load(image_id)
    if category is not None and category not in CATEGORIES:
        raise InvalidRequest(details={"category": f"one of {', '.join(CATEGORIES)}"})
    leave_queue = [Generation.review_shard.remove(), Generation.review_rank.remove()]
    details = {"category": category} if category else None
    record = audit.entry(audit.Event(moderator, action, "image", image_id, reason, details))
    # The audit entry is written in the decision's own transaction. A removal whose state
    # change is already in (a retry of one cut short after its transaction) completes what
    # follows it, idempotently, and answers as the first would have.
    if action == "approve":
        if image.status != IN_REVIEW:
            raise Conflict(f"Only an image in review can be approved; this one is {image.status}.")
        from chalicelib.imaging import verify

        original = storage.read(
            get_settings().originals_bucket, image.output_key, get_settings().max_output_bytes
        )
        gallery.write_derivatives(verify(original), image_id)
        changes = [*leave_queue, Generation.category.remove()]
        if not gallery.publish(image, changes, (IN_REVIEW,), audit_entry=record):
            raise Conflict("The image changed while deciding; look again.")
    elif action == "remove":
        if image.status not in (PUBLISHED, IN_REVIEW, REMOVED):
            raise Conflict(
                f"Only a published or in-review image can be removed; this one is {image.status}."
            )
        chosen = category or image.category or "other"
        if image.status != REMOVED:
            removed = gallery.unpublish(
                image,
                [*leave_queue, Generation.status.set(REMOVED), Generation.category.set(chosen)],
                (image.status,),
                strike_owner=True,
                audit_entry=record,
            )
            if not removed:
                raise Conflict("The image changed while deciding; look again.")
        gallery.delete_public_copies(image_id)
        enforcement.apply_strike_policy(image.owner_id, f"removal ({chosen})")
    else:
        raise InvalidRequest(details={"action": "one of approve, remove"})
    image.refresh(consistent_read=True)
    answer: dict[str, Any] = {"image_id": image_id, "status": image.status}
    if image.status == REMOVED:
        answer["category"] = image.category
    return answer


def mint_link(moderator: str, image_id: str, base_url: str) -> dict[str, str]:
    _load(image_id)
    token, expires = review_links.mint(image_id, moderator)
    audit.record(
        audit.Event(
            moderator,
            "review_link",
            "image",
            image_id,
            "link minted",
            {"expires_at": clock.iso(clock.from_epoch(expires))},
        )
    )
    return {
        "url": f"{base_url.rstrip('/')}/review/{token}",
        "expires_at": clock.iso(clock.from_epoch(expires)),
    }


def open_link(token: str) -> dict[str, Any]:
    """The one item a signed link grants sight of; the view is audited."""
    grant = review_links.verify(token)
    image = _load(grant.image_id)
    if image.status not in (PUBLISHED, IN_REVIEW):
        raise NotFound()
    url, expires = _original_url(image)
    audit.record(
        audit.Event(
            f"link:{grant.minted_by}", "view", "image", image.generation_id, "signed review link"
        )
    )
    return {
        "image_id": image.generation_id,
        "prompt": image.prompt,
        "created_at": clock.iso(image.created_at),
        "status": image.status,
        "flags": _flags(image),
        "reports": _reports(image),
        "image_url": url,
        "image_url_expires_at": expires,
    }
