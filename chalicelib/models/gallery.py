"""The public gallery: entries copied from published generations, in two kinds of partition.

Access patterns
- the public feed, newest first: the feed is the hottest key in the system, so it is written
  to `feed_shards` partitions (`pk = "feed#<n>"`, n = a hash of the image id) and read by
  querying every shard newest first (in parallel) and merging. A partition takes ≈1,000
  writes/s and 3,000 reads/s: with 4 shards the feed sustains ≈4,000 publishes/s, and each page
  costs one query per shard, so ≈3,000 pages/s before a shard is hot.
- one creator's published images, newest first: `pk = "creator#<user id>"`.
- both are base-table partitions read with strongly consistent queries, and every entry is
  written and deleted in the same transaction as its generation's state change: a removal or
  deletion leaves every read path at once (a GSI would lag).
Sort key: `"<published_at ISO>#<image id>"` (unique, time-ordered).

Discovery (issue 19) keeps three more kinds of item in the same table:
- rankings (`RankEntry`): per published image one item in each of `top#all#<n>`,
  `top#week#<ISO week>#<n>` and `top#day#<UTC date>#<n>` (n = the feed shard), same sort key as
  the entry, with `rank_likes`; the sparse index `by_likes` (pk, rank_likes), keys only, orders a
  partition by likes. Written and deleted in the lifecycle's transaction with the entries.
- search terms (`TermEntry`): `term#<normalised word>`, sort key = image id (a ULID: newest made
  last; the same key however often a publish is tried), with the feed entry's sort key and the
  image's normalised word set; written before the transaction that publishes and deleted after the
  one that withdraws (like the served copies): a page reads the feed entries of its hits back in one
  BatchGetItem, so a withdrawn image never shows, whatever its terms say.
- likes (`LikeRecord`): `like#<user id>`, sort key = image id: one item per (user, image).
The counts (`likes`) live on the generation, both entries and the rank items, all updated by a
like's one transaction (services/likes.py).
"""

from __future__ import annotations

import hashlib

from pynamodb.attributes import (
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.models.generations import ModelRef
from chalicelib.settings import get_settings


def feed_shard(n: int) -> str:
    return f"feed#{n}"


def feed_partitions(shards: int) -> list[str]:
    return [feed_shard(n) for n in range(shards)]


def feed_partition(image_id: str, shards: int) -> str:
    """The feed shard an image's entry lives in: a hash of its id."""
    return feed_shard(shard_number(image_id, shards))


def creator_partition(user_id: str) -> str:
    return f"creator#{user_id}"


def shard_number(image_id: str, shards: int) -> int:
    digest = hashlib.sha256(image_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") % shards


def rank_partition(period: str, bucket: str | None, shard: int) -> str:
    """`top#all#<n>`, `top#week#<ISO week>#<n>` or `top#day#<UTC date>#<n>`."""
    return f"top#{period}#{bucket}#{shard}" if bucket else f"top#{period}#{shard}"


def term_partition(word: str) -> str:
    return f"term#{word}"


def like_partition(user_id: str) -> str:
    return f"like#{user_id}"


BY_LIKES = "by_likes"


class ByLikes(GlobalSecondaryIndex["GalleryEntry"]):  # type: ignore[no-untyped-call]
    """A ranking partition by likes (only rank items carry `rank_likes`)."""

    class Meta:
        index_name = BY_LIKES
        projection = KeysOnlyProjection()

    pk = UnicodeAttribute(hash_key=True)
    rank_likes = NumberAttribute(range_key=True)


class GalleryEntry(Model):
    class Meta:
        table_name = get_settings().gallery_table
        region = region()
        billing_mode = BILLING_MODE

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    image_id = UnicodeAttribute()
    creator_id = UnicodeAttribute()
    # The creator's display name when the entry was written, kept current by a rename
    # (chalicelib/models/names.py says why it is copied here).
    creator_name = UnicodeAttribute(null=True)
    prompt = UnicodeAttribute()
    width = NumberAttribute()
    height = NumberAttribute()
    created_at = UTCDateTimeAttribute()
    published_at = UTCDateTimeAttribute()
    model = ModelRef(null=True)  # type: ignore[no-untyped-call]
    likes = NumberAttribute(null=True)  # absent = 0 (entries written before likes)
    by_likes = ByLikes()  # declared here: this model owns the table's schema


class RankByLikes(GlobalSecondaryIndex["RankEntry"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = BY_LIKES
        projection = KeysOnlyProjection()

    pk = UnicodeAttribute(hash_key=True)
    rank_likes = NumberAttribute(range_key=True)


class RankEntry(Model):
    class Meta:
        table_name = get_settings().gallery_table
        region = region()
        billing_mode = BILLING_MODE

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    rank_likes = NumberAttribute()
    by_likes = RankByLikes()


class TermEntry(Model):
    class Meta:
        table_name = get_settings().gallery_table
        region = region()
        billing_mode = BILLING_MODE

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # the image id
    entry_sk = UnicodeAttribute()  # its feed entry's sort key
    words = ListAttribute(of=UnicodeAttribute)


class LikeRecord(Model):
    """sk = the image id."""

    class Meta:
        table_name = get_settings().gallery_table
        region = region()
        billing_mode = BILLING_MODE

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    liked_at = UTCDateTimeAttribute()
