"""Images users upload to start a generation from (`POST /uploads`, image-to-image).

An upload is private to its uploader: never in the gallery or the dataset, served only to its
owner's generations and to moderators (audited). Its bytes go straight to S3 through a presigned
POST (`incoming/<upload id>`, uploads bucket); the upload scan (services/upload_scan.py) turns
them into `clean/<upload id>.png` or rejects them.

partition key `upload_id`   a ULID
GSI `owner_index`           owner_id (hash), created_at (range): export and erasure

Access patterns
- create (POST /uploads): PutItem, `pending`, conditional on the id being new.
- the owner polls it (GET /uploads/{id}), a generation uses it: GetItem by upload_id.
- the upload scan: GetItem, then conditional UpdateItems `pending` → `scanning` → `ready` |
  `rejected`.
- a generation uses it: UpdateItem `used` = true and the TTL removed (it no longer expires).
- export and erasure: Query `owner_index` by owner_id.
Unused uploads expire after `upload_retention_days`: the record by TTL, the clean object by the
bucket's lifecycle rule on its expiry tag (`incoming/` after a day).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings

PENDING, SCANNING, READY, REJECTED = "pending", "scanning", "ready", "rejected"
STATUSES = (PENDING, SCANNING, READY, REJECTED)
OWN, LICENSED = "own", "licensed"
RIGHTS = (OWN, LICENSED)


class OwnerIndex(GlobalSecondaryIndex["Upload"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "owner_index"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Upload(Model):
    class Meta:
        table_name = get_settings().uploads_table
        region = region()
        billing_mode = BILLING_MODE

    upload_id = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()
    status = UnicodeAttribute(default=PENDING)
    # The category shown to the owner when rejected (never which list or label matched).
    reason = UnicodeAttribute(null=True)
    rights = UnicodeAttribute()  # own | licensed
    attested_at = UTCDateTimeAttribute()
    content_type = UnicodeAttribute()  # what the presigned POST's policy fixed
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()  # when an unused upload goes
    ttl = TTLAttribute(null=True)  # = expires_at while unused; removed once used
    incoming_key = UnicodeAttribute()  # "incoming/<upload id>": where the POST writes
    clean_key = UnicodeAttribute(null=True)  # "clean/<upload id>.png" once ready
    fingerprint = UnicodeAttribute(null=True)  # PDQ, 64 hex digits, of the clean image
    used = BooleanAttribute(default=False)  # a generation uses it: it no longer expires

    owner_index = OwnerIndex()
