"""Perceptual fingerprints (PDQ, 256 bits) of every valid model output, indexed for look-up by
Hamming distance without a scan: multi-index hashing.

The 256 bits are cut into 16 bands of 16 bits. One item per (band, that band's value) and
image: partition key `"{band:02d}#{value:04x}"`, sort key the image id. Two hashes within
distance d < 16 agree exactly on at least 16 - d bands (pigeonhole: 15 differing bits touch
at most 15 bands), so every stored hash within 15 shares at least one partition with the hash
looked up. Each item carries the whole hash, so the caller measures the true distance from the
Query's answer alone, with no further read. (The band split and the parallel Queries are
`chalicelib/hash_index.py`'s, shared with the blocked hash lists.)

The items name the image, its model and when it was made: never who made it. They stay when
the image is removed or its creator erased, so the image stays recognisable as made here.

Access patterns
- record an output's fingerprint: BatchWriteItem of its 16 items (a retried scan puts the same
  items again: idempotent).
- look a hash up: 16 Queries, one per band partition, run at once; the candidates come back
  with their full hash, model and creation time.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings


class FingerprintBand(Model):
    class Meta:
        table_name = get_settings().fingerprints_table
        region = region()
        billing_mode = BILLING_MODE
        # A look-up sends its 16 Queries at once.
        max_pool_connections = 16

    band_key = UnicodeAttribute(hash_key=True)  # "{band:02d}#{value:04x}"
    image_id = UnicodeAttribute(range_key=True)
    fingerprint = UnicodeAttribute()  # the whole PDQ hash, 64 hex digits
    quality = NumberAttribute()  # PDQ's quality, 0-100
    model_name = UnicodeAttribute(null=True)
    model_version = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()  # when the image was made
