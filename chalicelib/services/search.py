"""Prompt search (`GET /gallery?q=words`): published images whose prompt holds every word. Words
are read as the prompt screen reads them (`prompt_policy.normalise`: case, accents, look-alike
letters, punctuation), and stop-words are dropped. The index holds one item per (word, image) in
`term#<word>`, keyed by the image's id (a ULID: sorted by when the image was made; a publish tried
again after a crash writes the very same items), each carrying the image's whole word set and its
feed entry's sort key. A page queries the partition of one word of the query (the longest: likely
the rarest), keeps in memory the hits whose word set holds every other word, and reads the feed
entries of the hits back in one consistent BatchGetItem: an image withdrawn a moment ago has no
entry and is left out, and the counts shown are current. The index is written before the transaction
that publishes and deleted after the one that withdraws (as the served copies are).
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import clock
from chalicelib.models.gallery import GalleryEntry, TermEntry, feed_partition, term_partition
from chalicelib.models.generations import Generation
from chalicelib.services import cursors
from chalicelib.services.errors import InvalidRequest
from chalicelib.settings import get_settings

MAX_QUERY_CHARS = 100
MAX_QUERY_WORDS = 5
# A prompt's first MAX_INDEXED_WORDS distinct words are indexed (the model itself reads only
# its first 77 tokens); more would make publishing a long prompt cost hundreds of writes.
MAX_INDEXED_WORDS = 100
# Index partitions read per page before a page is answered short (with a cursor to go on).
MAX_READS_PER_PAGE = 4
STOP_WORDS = frozenset(
    (
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from",
        "in", "into", "is", "it", "of", "on", "or", "the", "to", "with",
    )
)  # fmt: skip


def words_of(text: str) -> list[str]:
    """The distinct searchable words of a text, in reading order."""
    from chalicelib.services import prompt_policy

    seen: dict[str, None] = {}
    for word in prompt_policy.normalise(text).split():
        if word not in STOP_WORDS:
            seen.setdefault(word, None)
    return list(seen)


def query_words(q: str) -> list[str]:
    """The words a query asks for; InvalidRequest when empty, too long or too many."""
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidRequest(details={"q": f"at most {MAX_QUERY_CHARS} characters"})
    words = words_of(q)
    if not words:
        raise InvalidRequest(details={"q": "give at least one word that is not a stop-word"})
    if len(words) > MAX_QUERY_WORDS:
        raise InvalidRequest(details={"q": f"at most {MAX_QUERY_WORDS} words"})
    return words


def terms(generation: Generation) -> list[TermEntry]:
    words = words_of(generation.prompt)[:MAX_INDEXED_WORDS]
    entry_sk = f"{clock.iso(generation.published_at)}#{generation.generation_id}"
    return [
        TermEntry(term_partition(w), generation.generation_id, entry_sk=entry_sk, words=words)
        for w in words
    ]


def index(generation: Generation) -> None:
    """Write the image's index items (before the transaction that publishes it)."""
    with TermEntry.batch_write() as batch:
        for item in terms(generation):
            batch.save(item)


def unindex(generation: Generation) -> None:
    """Delete them (after the transaction that withdraws it); nothing there is fine."""
    if generation.published_at is None:
        return
    with TermEntry.batch_write() as batch:
        for item in terms(generation):
            batch.delete(item)


def forget_images(user_id: str) -> None:
    """Erasure: no index item of the user's images stays, whatever became of them."""
    for generation in Generation.by_owner.query(user_id):
        unindex(generation)


def search(q: str, limit: int, cursor: str | None) -> tuple[list[GalleryEntry], str | None]:
    """A page of the images whose prompt holds every word of `q`, newest first."""
    wanted = query_words(q)
    key = max(wanted, key=len)
    purpose = f"search:{' '.join(sorted(wanted))}"
    after: str | None = cursors.decode(cursor, purpose).get("sk") if cursor else None
    hits: list[TermEntry] = []
    last_read: str | None = after
    exhausted = False
    for _ in range(MAX_READS_PER_PAGE):
        condition = TermEntry.sk < last_read if last_read else None
        result = TermEntry.query(
            term_partition(key), condition, scan_index_forward=False, limit=max(limit + 1, 50)
        )
        read = list(result)
        for item in read:
            if set(wanted) <= set(item.words):
                hits.append(item)
            if len(hits) > limit:
                break
        if len(hits) > limit:
            last_read = hits[limit - 1].sk
            break
        if read:
            last_read = read[-1].sk
        if result.last_evaluated_key is None:
            exhausted = True
            break
    entries = _entries([h.sk for h in hits[:limit]], [h.entry_sk for h in hits[:limit]])
    if exhausted and len(hits) <= limit:
        return entries, None
    return entries, cursors.encode({"sk": last_read}, purpose)


def _entries(image_ids: list[str], sks: list[str]) -> list[GalleryEntry]:
    """The feed entries of these images, in this order, those still public only (one
    consistent BatchGetItem)."""
    if not image_ids:
        return []
    shards = get_settings().feed_shards
    keys: list[Any] = [
        (feed_partition(i, shards), sk) for i, sk in zip(image_ids, sks, strict=True)
    ]
    found = {e.image_id: e for e in GalleryEntry.batch_get(keys, consistent_read=True)}
    return [found[i] for i in image_ids if i in found]
