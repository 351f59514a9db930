"""The sharded feed's merge: pages concatenated equal the global newest-first order."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.models.gallery import GalleryEntry
from chalicelib.services.feed import merge_newest_first


def entry(shard: int, sk: str) -> GalleryEntry:
    now = datetime.now(UTC)
    return GalleryEntry(
        f"feed#{shard}",
        sk,
        image_id=sk,
        creator_id="c",
        prompt="p",
        width=1,
        height=1,
        created_at=now,
        published_at=now,
    )


@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.text("0123456789", min_size=6, max_size=6)),
        unique_by=lambda t: t[1],
        max_size=60,
    ),
    st.integers(1, 10),
)
def test_paging_through_merged_shards_yields_every_entry_once_in_order(
    items: list[tuple[int, str]], limit: int
) -> None:
    shards: dict[str, list[GalleryEntry]] = {}
    for shard, sk in items:
        shards.setdefault(f"feed#{shard}", []).append(entry(shard, sk))
    for entries in shards.values():
        entries.sort(key=lambda e: e.sk, reverse=True)
    position: dict[str, str | None] = dict.fromkeys(shards)
    seen: list[str] = []
    for _ in range(len(items) + 2):
        fetched = {
            p: [e for e in es if position[p] is None or e.sk < position[p]][: limit + 1]
            for p, es in shards.items()
        }
        page, last = merge_newest_first(fetched, limit)
        if not page:
            break
        seen += [e.sk for e in page]
        position.update(last)
    assert seen == sorted((sk for _, sk in items), reverse=True)
