"""Was this image made here? Anyone may ask (`POST /provenance/check`), with the image bytes.

Three kinds of evidence, strongest first, each naming an image id:
- `c2pa`: a valid C2PA manifest signed with our certificate, naming the image (survives
  nothing that re-encodes the file, but proves the most);
- `watermark`: the invisible mark in the pixels decodes to the id of an image made here
  (survives metadata stripping and lossless copies of the full-size image);
- `fingerprint`: the image's PDQ hash lies within 31 bits of a recorded output's (survives
  metadata stripping, JPEG, WebP and resizing; see `fingerprints.py` for its limits).
The image is the one the strongest evidence names; the answer lists every kind that agrees.

A removed, rejected or erased image answers `made_here: true` and `public: false` with no
image id and no date: nothing that leads to it or to whoever made it. A public one answers its
id, model and creation time.

Checks are rate limited per keyed hash of the caller's network address, in the same quota
slots as notices (`check#<address hash>` owns them).
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.adapters import clock
from chalicelib.models.base import lost_a_race, transaction
from chalicelib.services import consent, quota
from chalicelib.services.errors import InvalidImage, PayloadTooLarge
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from PIL import Image

    from chalicelib.models.generations import Generation

MAX_BYTES = 10 * 1024 * 1024
MEDIA_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
C2PA, WATERMARK, FINGERPRINT = "c2pa", "watermark", "fingerprint"


@dataclass(frozen=True)
class Verdict:
    made_here: bool
    public: bool = False
    image_id: str | None = None
    model_name: str | None = None
    model_version: str | None = None
    created_at: str | None = None  # ISO 8601, UTC
    evidence: list[str] = field(default_factory=list)


@dataclass
class _Found:
    """What each kind of evidence named."""

    by_kind: dict[str, str] = field(default_factory=dict)  # kind → image id
    model: tuple[str | None, str | None] = (None, None)
    created_at: datetime | None = None


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def check(data: bytes, content_type: str | None, address: str | None) -> Verdict:
    """The verdict on `data`; raises PayloadTooLarge, InvalidImage or RateLimited."""
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(details={"max_bytes": MAX_BYTES, "received_bytes": len(data)})
    mime = media_type(content_type)
    if mime not in MEDIA_TYPES:
        raise InvalidImage(
            "Send a PNG, JPEG or WebP image with its Content-Type.",
            details={"content_type": f"one of {', '.join(MEDIA_TYPES)}"},
        )
    image = decode(data, mime)  # before the rate limit: a refused body changes nothing
    take_a_check(address)
    found = _evidence(data, mime, image)
    return _verdict(found)


def take_a_check(address: str | None) -> None:
    """Claim one of the address's check slots, or raise RateLimited."""
    from pynamodb.exceptions import TransactWriteError

    settings = get_settings()
    window = quota.Window(
        settings.provenance_check_limit,
        settings.provenance_check_window_seconds,
        clock.epoch() * 1000,
        "checks",
    )
    owner = f"check#{consent.address_hash(address) or 'unknown'}"
    for slot in quota.candidates(owner, window):
        try:
            with transaction() as tx:
                quota.claim(tx, owner, slot, window, "provenance-check")
            return
        except TransactWriteError as exc:
            if not lost_a_race(exc):
                raise


def decode(data: bytes, mime: str) -> Image.Image:
    """The image, fully decoded within the bomb limits of `chalicelib.imaging`. A PNG is
    verified as a model output is (no truncation, no polyglot); a large JPEG is decoded at a
    reduced scale (the evidence needs no more than 2048 pixels a side)."""
    from PIL import Image as PILImage

    from chalicelib import imaging

    try:
        if mime == "image/png":
            return imaging.verify(data).image.convert("RGB")
        with PILImage.open(io.BytesIO(data), formats=[MEDIA_TYPES[mime]]) as probe:
            if probe.format == "JPEG":
                probe.draft("RGB", (2048, 2048))
            if probe.width * probe.height > imaging.MAX_PIXELS:
                raise imaging.InvalidImage("too many pixels")
            probe.load()
            return probe.convert("RGB")
    except (
        imaging.InvalidImage,
        PILImage.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        why = str(exc) if isinstance(exc, imaging.InvalidImage) else "undecodable"
        raise InvalidImage(details={"body": why}) from exc


def _evidence(data: bytes, mime: str, image: Image.Image) -> _Found:
    import numpy as np

    from chalicelib.provenance import credentials, fingerprints, watermark

    found = _Found()
    # The fingerprint's 16 Queries wait on the network while this thread reads the manifest
    # and the watermark (both mostly native code): the check costs the longer of the two.
    with ThreadPoolExecutor(max_workers=1) as side:
        looked_up = side.submit(fingerprints.lookup, fingerprints.compute(image))
        reading = credentials.read(data, mime)
        marked = watermark.read(np.asarray(image))
        matches = looked_up.result()
    if reading is not None and reading.valid and reading.signed_by_us and reading.image_id:
        found.by_kind[C2PA] = reading.image_id
        found.model = (reading.model_name, reading.model_version)
    if marked is not None and (
        any(m.image_id == marked for m in matches) or _generation(marked) is not None
    ):
        found.by_kind[WATERMARK] = marked
    chosen = found.by_kind.get(C2PA) or found.by_kind.get(WATERMARK)
    best = next((m for m in matches if chosen in (None, m.image_id)), None)
    if best is not None:
        found.by_kind[FINGERPRINT] = best.image_id
        if found.model == (None, None):
            found.model = (best.model_name, best.model_version)
        found.created_at = best.created_at
    return found


def _generation(image_id: str) -> Generation | None:
    from chalicelib.models.generations import find

    return find(image_id)


def _verdict(found: _Found) -> Verdict:
    from chalicelib.models.generations import is_public

    image_id = next(
        (found.by_kind[k] for k in (C2PA, WATERMARK, FINGERPRINT) if k in found.by_kind), None
    )
    if image_id is None:
        return Verdict(made_here=False)
    evidence = [k for k in (C2PA, WATERMARK, FINGERPRINT) if found.by_kind.get(k) == image_id]
    generation = _generation(image_id)
    name, version = found.model
    if generation is not None and generation.model is not None:
        name, version = generation.model.name, generation.model.version
    if generation is None or not is_public(generation):
        # Removed, rejected, withheld, not yet published, or erased: that it was made here,
        # with which model, and nothing that leads to the image or its creator.
        return Verdict(True, False, None, name, version, None, evidence)
    made = clock.iso(generation.created_at)
    return Verdict(True, True, image_id, name, version, made, evidence)
