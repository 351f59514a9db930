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
"""

from __future__ import annotations

import hashlib

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
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
    digest = hashlib.sha256(image_id.encode()).digest()
    return feed_shard(int.from_bytes(digest[:4], "big") % shards)


def creator_partition(user_id: str) -> str:
    return f"creator#{user_id}"


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
