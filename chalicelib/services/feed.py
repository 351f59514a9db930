"""The public feed, newest first over its shards, and a creator's page (see
`models/gallery.py` for the partition layout)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from chalicelib.models.gallery import GalleryEntry, creator_partition, feed_partitions
from chalicelib.services import cursors
from chalicelib.settings import get_settings

FEED = "feed"


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
    partitions = feed_partitions(shards)
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
