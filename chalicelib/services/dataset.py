"""The training dataset: every published image with its prompt, parameters and the consent
provenance (terms version and sha256) under which it was made, as WebDataset-style tar shards
(`<id>.png` + `<id>.json` per record) and a JSONL manifest.

Eligible means published at export time: removed, rejected, deleted and erased images have left
the feed and are never read. Deterministic: records sorted by (published_at, id), tar headers
with fixed owners and times; the same eligible set gives the same bytes. Resumable: a progress
object lists finished shards with their record ids; a re-run skips those unchanged.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib import resources
from chalicelib.adapters import clock, storage
from chalicelib.adapters.aws import client
from chalicelib.models.gallery import GalleryEntry
from chalicelib.models.generations import PUBLISHED, Generation, guidance_of, scheduler_of
from chalicelib.settings import get_settings

PROGRESS = "_progress.json"
MAX_IMAGE_BYTES = 50_000_000


@dataclass(frozen=True)
class DatasetResult:
    records: int
    shards: int
    skipped_shards: int
    out: str


def _eligible(since: datetime | None) -> list[Generation]:
    """Published images in the feed, rechecked against their generation (consistent reads)."""
    ids: list[tuple[str, str]] = []
    for shard in range(get_settings().feed_shards):
        for entry in GalleryEntry.query(f"feed#{shard}", consistent_read=True):
            if since is None or entry.published_at >= since:
                ids.append((entry.sk, entry.image_id))
    ids.sort()
    found: dict[str, Generation] = {}
    for start in range(0, len(ids), 100):
        keys = [image_id for _, image_id in ids[start : start + 100]]
        for item in Generation.batch_get(keys, consistent_read=True):
            if item.status == PUBLISHED:
                found[item.generation_id] = item
    return [found[image_id] for _, image_id in ids if image_id in found]


def record(item: Generation) -> dict[str, Any]:
    """One training record; no user id (minimisation): provenance is the consent, not the person."""
    return {
        "id": item.generation_id,
        "prompt": item.prompt,
        "negative_prompt": item.negative_prompt,
        "width": int(item.width),
        "height": int(item.height),
        "steps": int(item.steps),
        "seed": int(item.seed),
        "guidance_scale": guidance_of(item),
        "scheduler": scheduler_of(item),
        # A remix names the published image it started from (its id in this dataset too).
        "remix_of": item.remix_of,
        # Image-to-image from its creator's upload: "upload" and the strength; the upload itself
        # (private to its uploader) is neither named nor included.
        "made_from": "upload" if item.init_upload else None,
        "strength": float(item.strength) if item.strength is not None else None,
        "created_at": clock.iso(item.created_at),
        "published_at": clock.iso(item.published_at) if item.published_at else None,
        "terms_version": int(item.terms_version),
        "terms_sha256": item.terms_sha256,
        "model": {"name": item.model.name, "version": item.model.version} if item.model else None,
    }


def _add(archive: tarfile.TarFile, name: str, data: bytes, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    archive.addfile(info, io.BytesIO(data))


def _shard(items: list[Generation]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for item in items:
            mtime = int((item.published_at or item.created_at).timestamp())
            key = resources.public_keys(item.generation_id)["full"]
            image = storage.read(get_settings().public_bucket, key, MAX_IMAGE_BYTES)
            _add(archive, f"{item.generation_id}.png", image, mtime)
            body = json.dumps(record(item), sort_keys=True, ensure_ascii=False).encode()
            _add(archive, f"{item.generation_id}.json", body, mtime)
    return out.getvalue()


def _read_progress(bucket: str, prefix: str) -> dict[str, Any]:
    try:
        return dict(json.loads(storage.read(bucket, prefix + PROGRESS, 10_000_000)))
    except client("s3").exceptions.NoSuchKey:
        return {"shards": {}}


def export_dataset(
    out: str,
    since: datetime | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> DatasetResult:
    """Write the dataset under `out` (an s3:// prefix). `on_progress`, when given, is told
    (records written or found unchanged, records in all) after each shard (the command shows
    it; the Lambda passes none)."""
    bucket, prefix = storage.split_s3_uri(out.rstrip("/") + "/")
    size = get_settings().dataset_shard_size
    items = _eligible(since)
    progress = _read_progress(bucket, prefix)
    manifest: list[str] = []
    skipped = 0
    shards = [items[i : i + size] for i in range(0, len(items), size)]
    if on_progress is not None:
        on_progress(0, len(items))
    for number, chunk in enumerate(shards):
        name = f"shard-{number:06d}.tar"
        digest = hashlib.sha256(json.dumps([record(i) for i in chunk], sort_keys=True).encode())
        fingerprint = digest.hexdigest()
        if progress["shards"].get(name) == fingerprint:
            skipped += 1
        else:
            storage.put_bytes(bucket, prefix + name, _shard(chunk), "application/x-tar")
            progress["shards"][name] = fingerprint
            storage.put_json(bucket, prefix + PROGRESS, json.dumps(progress).encode())
        manifest += [
            json.dumps({**record(item), "shard": name}, sort_keys=True, ensure_ascii=False)
            for item in chunk
        ]
        if on_progress is not None:
            on_progress(min((number + 1) * size, len(items)), len(items))
    for stale in sorted(
        set(progress["shards"]) - {f"shard-{n:06d}.tar" for n in range(len(shards))}
    ):
        storage.delete(bucket, prefix + stale)  # shards of a larger earlier run
        del progress["shards"][stale]
    storage.put_json(bucket, prefix + PROGRESS, json.dumps(progress).encode())
    storage.put_bytes(
        bucket,
        prefix + "manifest.jsonl",
        ("\n".join(manifest) + ("\n" if manifest else "")).encode(),
        "application/jsonl",
    )
    return DatasetResult(len(items), len(shards), skipped, out)
