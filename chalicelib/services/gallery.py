"""The public gallery: publishing an image, the sharded newest-first feed, a creator's page,
detail, download and deletion."""

from __future__ import annotations

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib import resources
from chalicelib.adapters import clock, ids, storage
from chalicelib.models.audit import AuditEntry
from chalicelib.models.base import refused_by_condition, transaction
from chalicelib.models.gallery import GalleryEntry, creator_partition, feed_partition
from chalicelib.models.generations import PUBLISHED, REMOVED, Generation
from chalicelib.models.users import UserProfile
from chalicelib.services import cursors
from chalicelib.services.errors import NotFound
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.imaging import VerifiedImage

FEED = "feed"


def _url(key: str, **params: str) -> str:
    settings = get_settings()
    if settings.public_base_url and not params:
        return f"{settings.public_base_url.rstrip('/')}/{key}"
    return storage.presigned_get(settings.public_bucket, key, extra=params)


def image_urls(image_id: str) -> dict[str, str]:
    keys = resources.public_keys(image_id)
    return {"thumbnail_url": _url(keys["thumbnail"]), "image_url": _url(keys["web"])}


def write_derivatives(verified: VerifiedImage, image_id: str) -> None:
    """Put the served copies; nothing points at them until the publish transaction."""
    from chalicelib.imaging import derivatives  # Pillow: only the functions that publish

    made = derivatives(verified, image_id)
    bucket, keys = get_settings().public_bucket, resources.public_keys(image_id)
    storage.put_bytes(
        bucket,
        keys["thumbnail"],
        made.thumbnail_webp,
        "image/webp",
        CacheControl="public, max-age=31536000, immutable",
    )
    storage.put_bytes(
        bucket,
        keys["web"],
        made.web_webp,
        "image/webp",
        CacheControl="public, max-age=31536000, immutable",
    )
    storage.put_bytes(
        bucket,
        keys["full"],
        made.full_png,
        "image/png",
        CacheControl="public, max-age=31536000, immutable",
    )


def _entries(generation: Generation, published_at: Any) -> list[GalleryEntry]:
    sk = f"{clock.iso(published_at)}#{generation.generation_id}"
    common: dict[str, Any] = {
        "image_id": generation.generation_id,
        "creator_id": generation.owner_id,
        "prompt": generation.prompt,
        "width": generation.width,
        "height": generation.height,
        "created_at": generation.created_at,
        "published_at": published_at,
        "model": generation.model,
    }
    shards = get_settings().feed_shards
    return [
        GalleryEntry(feed_partition(generation.generation_id, shards), sk, **common),
        GalleryEntry(creator_partition(generation.owner_id), sk, **common),
    ]


def publish(
    generation: Generation,
    actions: list[Any],
    from_states: tuple[str, ...],
    audit_entry: AuditEntry | None = None,
) -> bool:
    """Make a generation public: its state change and both gallery entries (and the audit entry
    of the decision that made it public), all or nothing."""
    now = clock.now()
    generation.published_at = now
    try:
        with transaction() as tx:
            tx.update(
                generation,
                actions=[
                    *actions,
                    Generation.status.set(PUBLISHED),
                    Generation.published_at.set(now),
                    Generation.updated_at.set(now),
                    Generation.deadline_at.remove(),
                    Generation.sweep_shard.remove(),
                ],
                condition=Generation.status.is_in(*from_states),
            )
            for entry in _entries(generation, now):
                tx.save(entry)
            if audit_entry is not None:
                tx.save(audit_entry, condition=AuditEntry.sk.does_not_exist())
    except TransactWriteError as exc:
        if not refused_by_condition(exc):
            raise
        return False
    return True


def unpublish(
    generation: Generation,
    actions: list[Any],
    from_states: tuple[str, ...],
    strike_owner: bool = False,
    audit_entry: AuditEntry | None = None,
) -> bool:
    """Take an image out of every public read path at once, with its state change (and, for a
    removal, the strike against its creator and the moderator's audit entry: all in one
    transaction, so never twice and never one without the other)."""
    try:
        with transaction() as tx:
            tx.update(
                generation,
                actions=[*actions, Generation.updated_at.set(clock.now())],
                condition=Generation.status.is_in(*from_states),
            )
            if strike_owner:
                tx.update(
                    UserProfile(generation.owner_id),
                    actions=[UserProfile.strikes.add(1)],
                    condition=UserProfile.user_id.exists(),
                )
            if generation.status == PUBLISHED and generation.published_at is not None:
                for entry in _entries(generation, generation.published_at):
                    tx.delete(entry)
            if audit_entry is not None:
                tx.save(audit_entry, condition=AuditEntry.sk.does_not_exist())
    except TransactWriteError as exc:
        if not refused_by_condition(exc):
            raise
        return False
    return True


def delete_public_copies(image_id: str) -> None:
    bucket = get_settings().public_bucket
    for key in resources.public_keys(image_id).values():
        storage.delete(bucket, key)


# Reads ---------------------------------------------------------------------------------------


def _public_view(
    image_id: str,
    creator: str,
    prompt: str,
    size: tuple[Any, Any],
    created_at: Any,
    published_at: Any,
    model: Any,
) -> dict[str, Any]:
    """A published image as the public sees it, from a feed entry or a generation alike."""
    answer: dict[str, Any] = {
        "id": image_id,
        "creator": creator,
        "prompt": prompt,
        "width": int(size[0]),
        "height": int(size[1]),
        "created_at": clock.iso(created_at),
        "published_at": clock.iso(published_at) if published_at else None,
        **image_urls(image_id),
    }
    if model is not None:
        answer["model"] = {"name": model.name, "version": model.version}
    return answer


def entry_view(entry: GalleryEntry) -> dict[str, Any]:
    return _public_view(
        entry.image_id,
        entry.creator_id,
        entry.prompt,
        (entry.width, entry.height),
        entry.created_at,
        entry.published_at,
        entry.model,
    )


@dataclass(frozen=True)
class Page:
    items: list[GalleryEntry]
    next_cursor: str | None


def _query(partition: str, after: str | None, limit: int) -> list[GalleryEntry]:
    condition = GalleryEntry.sk < after if after else None
    return list(
        GalleryEntry.query(
            partition, condition, scan_index_forward=False, limit=limit, consistent_read=True
        )
    )


def merge_newest_first(
    shards: dict[str, list[GalleryEntry]], limit: int
) -> tuple[list[GalleryEntry], dict[str, str]]:
    """Merge per-shard newest-first lists; returns the page and each shard's last key taken."""
    merged = sorted(
        (entry for entries in shards.values() for entry in entries),
        key=lambda e: e.sk,
        reverse=True,
    )[:limit]
    last: dict[str, str] = {}
    for entry in merged:
        last[entry.pk] = entry.sk  # merged is newest first: the last seen is the oldest taken
    return merged, last


def feed(limit: int, cursor: str | None) -> Page:
    shards = get_settings().feed_shards
    partitions = [f"feed#{n}" for n in range(shards)]
    position: dict[str, Any] = cursors.decode(cursor, FEED) if cursor else {}
    after: dict[str, str | None] = {p: position.get(p) for p in partitions}
    done = set(position.get("done", []))
    live = [p for p in partitions if p not in done]
    with ThreadPoolExecutor(max_workers=max(1, len(live))) as pool:
        fetched = dict(
            zip(live, pool.map(lambda p: _query(p, after[p], limit + 1), live), strict=True)
        )
    items, last = merge_newest_first(fetched, limit)
    # A shard is finished once everything it returned was taken and it had no more.
    next_position: dict[str, Any] = {p: last.get(p, after[p]) for p in partitions}
    finished = set(done)
    for partition, entries in fetched.items():
        taken = sum(1 for e in items if e.pk == partition)
        if taken == len(entries) and len(entries) <= limit:
            finished.add(partition)
    if len(finished) == len(partitions):
        return Page(items, None)
    next_position["done"] = sorted(finished)
    return Page(items, cursors.encode(next_position, FEED))


def creator_page(user_id: str, limit: int, cursor: str | None) -> Page:
    purpose = f"creator:{user_id}"
    after = cursors.decode(cursor, purpose).get("sk") if cursor else None
    entries = _query(creator_partition(user_id), after, limit + 1)
    if len(entries) > limit:
        return Page(entries[:limit], cursors.encode({"sk": entries[limit - 1].sk}, purpose))
    return Page(entries, None)


def published(image_id: str) -> Generation:
    """A published image; 404 for unknown, removed, rejected, under review or deleted ones."""
    if not ids.is_id(image_id):
        raise NotFound()
    try:
        generation = Generation.get(image_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound() from exc
    if generation.status != PUBLISHED:
        raise NotFound()
    return generation


def detail_view(generation: Generation) -> dict[str, Any]:
    return _public_view(
        generation.generation_id,
        generation.owner_id,
        generation.prompt,
        (generation.width, generation.height),
        generation.created_at,
        generation.published_at,
        generation.model,
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def download_url(image_id: str) -> str:
    """A short-lived URL of the full-size published copy, served as an attachment."""
    generation = published(image_id)
    slug = _UNSAFE.sub("-", generation.prompt.lower())[:40].strip("-.") or "image"
    filename = f"objektify-{slug}-{generation.generation_id[-8:].lower()}.png"
    return _url(
        resources.public_keys(image_id)["full"],
        ResponseContentDisposition=f'attachment; filename="{filename}"',
        ResponseContentType="image/png",
    )


def etag(payload: Any) -> str:
    """A validator for public answers: their data, plus the presign period the URLs live in."""
    period = int(clock.epoch() // max(60, get_settings().presign_seconds // 2))
    digest = hashlib.sha256(repr((payload, period)).encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def delete_image(image_id: str, caller_id: str, is_moderator: bool) -> None:
    """The creator (or a moderator) deletes an image: gone from every read path at once."""
    if not ids.is_id(image_id):
        raise NotFound()
    try:
        generation = Generation.get(image_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound() from exc
    if generation.owner_id != caller_id and not is_moderator:
        raise NotFound()
    if generation.status == REMOVED:
        return
    removed = unpublish(
        generation,
        [
            Generation.status.set(REMOVED),
            Generation.category.set("deleted"),
            Generation.deadline_at.remove(),
            Generation.sweep_shard.remove(),
        ],
        from_states=(generation.status,),
    )
    if not removed:
        raise NotFound()
    delete_public_copies(image_id)
