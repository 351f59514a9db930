"""Perceptual fingerprints: was an image, whatever became of its metadata, made here?

Every valid model output's PDQ hash (the 256-bit perceptual hash Meta open-sourced for
matching images after re-encoding and resizing) is recorded when it is scanned, whatever the
scan decides: a rejected or removed image stays recognisable. A look-up finds every recorded
hash within `MATCH_DISTANCE` bits of the one asked about (see `models/fingerprints.py` for the
index).

Limits, said plainly:
- A match is accepted up to `MATCH_DISTANCE` (31 of 256 bits, PDQ's customary threshold). The
  band index guarantees finding every stored hash within `GUARANTEED_DISTANCE` (15): any hash
  that close agrees exactly on at least one of the 16 bands (`chalicelib/hash_index.py`). Between
  16 and 31 a match is found only when some band happens to agree, which for a re-encoded or
  resized copy it almost always does (most of the differing bits cluster in few bands), but
  not always. (The blocked hash lists, `services/hash_lists.py`, pay for a second pass that
  makes 31 a guarantee; a provenance check answers from 16 Queries.)
- Hashes of low quality (PDQ's quality under `MIN_QUALITY`: flat or nearly flat images) are
  neither recorded nor looked up: such hashes sit close to each other whatever the picture,
  and would make every flat image look "made here".
- Crops, rotations and flips beyond a few percent move PDQ far from the original; the
  watermark and the C2PA manifest are the other two kinds of evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib import hash_index

# The band split and the distance live with the index both PDQ tables share.
from chalicelib.hash_index import band_keys as band_keys
from chalicelib.hash_index import bands as bands
from chalicelib.hash_index import distance as distance

if TYPE_CHECKING:
    from PIL import Image

    from chalicelib.models.fingerprints import FingerprintBand

MATCH_DISTANCE = 31
GUARANTEED_DISTANCE = hash_index.guaranteed_distance(0)
MIN_QUALITY = 50
# Every image is brought to this longer side (Lanczos, aspect kept) before PDQ: PDQ's own
# reduction to 64x64 depends on the input's size, and measured here a copy resized to 50 %
# then differed by 17-20 bits from its original; brought to one size first, by 0-4. It also
# makes a large upload cost the same as a small one.
HASH_SIDE = 256


@dataclass(frozen=True)
class Fingerprint:
    """A PDQ hash as a 256-bit integer, with PDQ's quality (0-100)."""

    bits: int
    quality: int

    @property
    def hex(self) -> str:
        return f"{self.bits:064x}"

    @property
    def usable(self) -> bool:
        return self.quality >= MIN_QUALITY

    @classmethod
    def from_hex(cls, text: str, quality: int) -> Fingerprint:
        return cls(int(text, 16), quality)


@dataclass(frozen=True)
class Match:
    """A recorded image whose hash is within MATCH_DISTANCE of the one looked up."""

    image_id: str
    distance: int
    model_name: str | None
    model_version: str | None
    created_at: datetime


def compute(image: Image.Image) -> Fingerprint:
    """The PDQ hash of an image's pixels (any mode; alpha is dropped)."""
    import numpy as np
    import pdqhash
    from PIL import Image as PILImage

    rgb = image.convert("RGB")
    scale = HASH_SIDE / max(rgb.size)
    if scale != 1:
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, PILImage.Resampling.LANCZOS)
    vector, quality = pdqhash.compute(np.asarray(rgb, dtype=np.uint8))
    bits = 0
    for bit in vector:
        bits = (bits << 1) | int(bit)
    return Fingerprint(bits, int(quality))


def record(
    image_id: str,
    image: Image.Image,
    model_name: str | None,
    model_version: str | None,
    created_at: datetime,
) -> Fingerprint:
    """Compute and store an output's fingerprint; a low-quality one is not stored. Storing the
    same image again writes the same items (a retried scan is harmless)."""
    from chalicelib.models.fingerprints import FingerprintBand

    fingerprint = compute(image)
    if not fingerprint.usable:
        return fingerprint
    with FingerprintBand.batch_write() as batch:
        for key in band_keys(fingerprint.bits):
            batch.save(
                FingerprintBand(
                    key,
                    image_id,
                    fingerprint=fingerprint.hex,
                    quality=fingerprint.quality,
                    model_name=model_name,
                    model_version=model_version,
                    created_at=created_at,
                )
            )
    return fingerprint


def _band_items(key: str) -> list[FingerprintBand]:
    from chalicelib.models.fingerprints import FingerprintBand

    return list(FingerprintBand.query(key))


def lookup(fingerprint: Fingerprint, max_distance: int = MATCH_DISTANCE) -> list[Match]:
    """Every recorded image within `max_distance` that shares a band with `fingerprint`,
    nearest first: 16 Queries at once, no other read. A low-quality hash finds nothing."""
    if not fingerprint.usable:
        return []
    found: dict[str, Match] = {}
    for item in hash_index.query_partitions(_band_items, band_keys(fingerprint.bits)):
        if item.image_id in found:
            continue
        apart = distance(fingerprint.bits, int(item.fingerprint, 16))
        if apart <= max_distance:
            found[item.image_id] = Match(
                item.image_id, apart, item.model_name, item.model_version, item.created_at
            )
    return sorted(found.values(), key=lambda match: (match.distance, match.image_id))
