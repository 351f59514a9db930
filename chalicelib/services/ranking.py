"""`GET /gallery?sort=top&period=day|week|all`: the most liked published images of a period.

Each published image has a rank item in `top#all#<n>`, `top#week#<ISO week>#<n>` and
`top#day#<UTC date>#<n>` (n = its feed shard), written and deleted in the same transaction as
its feed entry, and counted up by each like (services/likes.py). The sparse index `by_likes`
orders each partition by likes. A page queries, in parallel, every partition that can hold the
period (all: the shards; week: this ISO week and the last, each shard; day: today and
yesterday, each shard), keeps the items published inside the period (the last 24 hours or
7 days), merges them by likes, and reads the page's feed entries back in one consistent
BatchGetItem. Freshness: the order follows the index, which DynamoDB keeps within about a
second of each like; the counts shown and the membership (a withdrawn image has no entry) are
exact at once. The cursor holds the period's start, so paging does not shift as time passes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from chalicelib.adapters import clock
from chalicelib.models.gallery import GalleryEntry, RankEntry, feed_partition, rank_partition
from chalicelib.services import cursors
from chalicelib.services.errors import InvalidRequest
from chalicelib.settings import get_settings

PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7), "all": None}
MAX_READS_PER_PARTITION = 4


def period_of(raw: str | None) -> str:
    period = raw or "week"
    if period not in PERIODS:
        raise InvalidRequest(details={"period": "one of day, week, all"})
    return period


def _partitions(period: str, now: Any) -> list[str]:
    shards = range(get_settings().feed_shards)
    if period == "all":
        return [rank_partition("all", None, n) for n in shards]
    span = PERIODS[period]
    assert span is not None
    moments = (now, now - span)
    if period == "day":
        buckets = sorted({m.date().isoformat() for m in moments})
    else:
        buckets = sorted({f"{m.isocalendar()[0]}-W{m.isocalendar()[1]:02d}" for m in moments})
    return [rank_partition(period, b, n) for b in buckets for n in shards]


@dataclass
class _Stream:
    partition: str
    after: list[Any] | None  # [sk, likes] of the last item taken
    items: list[RankEntry] = field(default_factory=list)
    exhausted: bool = False


def _read(stream: _Stream, cutoff: str, wanted: int) -> None:
    start: dict[str, Any] | None = None
    if stream.after is not None:
        sk, likes = stream.after
        start = {"pk": {"S": stream.partition}, "sk": {"S": sk}, "rank_likes": {"N": str(likes)}}
    for _ in range(MAX_READS_PER_PARTITION):
        result = RankEntry.by_likes.query(
            stream.partition,
            scan_index_forward=False,
            limit=max(wanted, 25),
            last_evaluated_key=start,
        )
        for item in result:
            if item.sk >= cutoff:
                stream.items.append(item)
        start = result.last_evaluated_key
        if start is None:
            stream.exhausted = True
            return
        if len(stream.items) >= wanted:
            return


def top(period: str, limit: int, cursor: str | None) -> tuple[list[GalleryEntry], str | None]:
    purpose = f"top:{period}"
    position: dict[str, Any] = cursors.decode(cursor, purpose) if cursor else {}
    if position:
        cutoff, partitions = position["cutoff"], position["partitions"]
        if not isinstance(partitions, list) or not all(isinstance(p, str) for p in partitions):
            from chalicelib.services.errors import InvalidCursor

            raise InvalidCursor()
    else:
        now = clock.now()
        span = PERIODS[period]
        cutoff = clock.iso(now - span) if span is not None else ""
        partitions = _partitions(period, now)
    done = set(position.get("done", []))
    after = position.get("after", {})
    streams = [_Stream(p, after.get(p)) for p in partitions if p not in done]
    with ThreadPoolExecutor(max_workers=max(1, len(streams))) as pool:
        list(pool.map(lambda s: _read(s, cutoff, limit + 1), streams))
    # Merge: most likes first; within a partition its own order (each is sorted by likes).
    ranked = sorted(
        (
            (-int(item.rank_likes), n, i, s)
            for n, s in enumerate(streams)
            for i, item in enumerate(s.items)
        ),
        key=lambda t: t[:3],
    )[:limit]
    taken: dict[str, int] = {}
    for _, _, i, stream in ranked:
        taken[stream.partition] = max(taken.get(stream.partition, -1), i)
    next_after = dict(after)
    finished = set(done)
    for stream in streams:
        last = taken.get(stream.partition)
        if last is not None:
            item = stream.items[last]
            next_after[stream.partition] = [item.sk, int(item.rank_likes)]
        if stream.exhausted and (
            (last is not None and last == len(stream.items) - 1) or not stream.items
        ):
            finished.add(stream.partition)
    page = [stream.items[i] for _, _, i, stream in ranked]
    entries = _entries(page)
    if len(finished) == len(partitions):
        return entries, None
    state = {
        "cutoff": cutoff,
        "partitions": partitions,
        "done": sorted(finished),
        "after": next_after,
    }
    return entries, cursors.encode(state, purpose)


def _entries(page: list[RankEntry]) -> list[GalleryEntry]:
    if not page:
        return []
    shards = get_settings().feed_shards
    keys = [(feed_partition(item.sk.rsplit("#", 1)[1], shards), item.sk) for item in page]
    found = {(e.pk, e.sk): e for e in GalleryEntry.batch_get(keys, consistent_read=True)}
    return [found[k] for k in keys if k in found]
