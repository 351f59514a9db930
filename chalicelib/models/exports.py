"""Data exports a user asked for (`POST /me/export`).

Access patterns
- request an export: PutItem (`pending`), then a message to the exports queue.
- the worker: GetItem, build the archive, UpdateItem to `ready` (conditional on `pending`, so a
  redelivered message changes nothing twice).
- the user polls one export: GetItem by (user_id, export_id).
Records and archives expire after `export_retention_days` (TTL here, lifecycle on the bucket).
"""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings

PENDING, READY, FAILED = "pending", "ready", "failed"


class Export(Model):
    class Meta:
        table_name = get_settings().exports_table
        region = region()
        billing_mode = BILLING_MODE

    user_id = UnicodeAttribute(hash_key=True)
    export_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute(default=PENDING)
    object_key = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
