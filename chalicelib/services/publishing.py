"""What makes an image public besides its state: the served copies in the public bucket and
its entries in the sharded feed and on its creator's page. The lifecycle decides when; this
module knows how."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib import resources
from chalicelib.adapters import clock, storage
from chalicelib.models.gallery import (
    GalleryEntry,
    RankEntry,
    creator_partition,
    feed_partition,
    rank_partition,
    shard_number,
)
from chalicelib.models.generations import Generation
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.imaging import VerifiedImage

IMMUTABLE = "public, max-age=31536000, immutable"


def public_url(key: str, **params: str) -> str:
    """The CDN's URL of a public object, or a presigned one (with response parameters)."""
    settings = get_settings()
    if settings.public_base_url and not params:
        return f"{settings.public_base_url.rstrip('/')}/{key}"
    return storage.presigned_get(settings.public_bucket, key, extra=params)


def image_urls(image_id: str) -> dict[str, str]:
    keys = resources.public_keys(image_id)
    return {"thumbnail_url": public_url(keys["thumbnail"]), "image_url": public_url(keys["web"])}


def write_copies(
    verified: VerifiedImage,
    image_id: str,
    remix_of: str | None = None,
    made_from: str | None = None,
) -> None:
    """Put the served copies; nothing points at them until the transaction that publishes.
    The web and full-size copies carry signed content credentials; a signature that cannot be
    made raises (the event is retried, then dead-lettered): nothing is published unsigned."""
    from chalicelib.imaging import derivatives  # Pillow: only the functions that publish
    from chalicelib.provenance import credentials

    made = credentials.signed_copies(
        derivatives(verified, image_id), verified, image_id, remix_of=remix_of, made_from=made_from
    )
    bucket, keys = get_settings().public_bucket, resources.public_keys(image_id)
    storage.put_bytes(
        bucket, keys["thumbnail"], made.thumbnail_webp, "image/webp", CacheControl=IMMUTABLE
    )
    storage.put_bytes(bucket, keys["web"], made.web_webp, "image/webp", CacheControl=IMMUTABLE)
    storage.put_bytes(bucket, keys["full"], made.full_png, "image/png", CacheControl=IMMUTABLE)


def write_copies_from_original(generation: Generation) -> None:
    """The served copies made again from the private original (an approval, a restore)."""
    from chalicelib.imaging import verify

    settings = get_settings()
    original = storage.read(
        settings.originals_bucket, generation.output_key, settings.max_output_bytes
    )
    made_from = "upload" if generation.init_upload else None
    write_copies(verify(original), generation.generation_id, generation.remix_of, made_from)


def delete_copies(image_id: str) -> None:
    bucket = get_settings().public_bucket
    for key in resources.public_keys(image_id).values():
        storage.delete(bucket, key)


def rank_buckets(published_at: Any) -> list[tuple[str, str | None]]:
    """The rankings an image published at `published_at` is in: all time, its ISO week, its
    UTC day (services/ranking.py reads them)."""
    year, week, _ = published_at.isocalendar()
    return [
        ("all", None),
        ("week", f"{year}-W{week:02d}"),
        ("day", published_at.date().isoformat()),
    ]


def rank_entries(image_id: str, published_at: Any, likes: int = 0) -> list[RankEntry]:
    sk = f"{clock.iso(published_at)}#{image_id}"
    shard = shard_number(image_id, get_settings().feed_shards)
    return [
        RankEntry(rank_partition(period, bucket, shard), sk, rank_likes=likes)
        for period, bucket in rank_buckets(published_at)
    ]


def entries(
    generation: Generation, published_at: Any, creator_name: str | None = None
) -> list[Any]:
    """Its feed entry, its creator-page entry and its rank items, as of `published_at`, naming
    the creator by `creator_name` when they have chosen one (a removal deletes by key and needs
    none). The likes it had survive a withdrawal on the generation and come back with it."""
    sk = f"{clock.iso(published_at)}#{generation.generation_id}"
    common: dict[str, Any] = {
        "image_id": generation.generation_id,
        "creator_id": generation.owner_id,
        "creator_name": creator_name,
        "prompt": generation.prompt,
        "width": generation.width,
        "height": generation.height,
        "created_at": generation.created_at,
        "published_at": published_at,
        "model": generation.model,
        "likes": int(generation.likes or 0),
    }
    shards = get_settings().feed_shards
    return [
        GalleryEntry(feed_partition(generation.generation_id, shards), sk, **common),
        GalleryEntry(creator_partition(generation.owner_id), sk, **common),
        *rank_entries(generation.generation_id, published_at, common["likes"]),
    ]
