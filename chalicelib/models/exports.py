"""Data exports a user asked for (`POST /me/export`), and the one each user may have in progress.

Access patterns
- request an export: one transaction that takes the user's `PendingExport` item (only if there
  is none, or the one there is stale) and puts the new `Export` (`pending`); then a message to
  the exports queue. A request while one is in progress reads the `PendingExport` (GetItem) and
  answers the export it names.
- the worker: GetItem, build the archive, then one transaction: UpdateItem to `ready`
  (conditional on `pending`, so a redelivered message changes nothing twice) and DeleteItem of
  the `PendingExport` (conditional on naming this export).
- the user polls one export: GetItem by (user_id, export_id).
- erasure: Query by user_id, DeleteItem each (the `PendingExport` among them).
Records and archives expire after `export_retention_days` (TTL here, lifecycle on the bucket).
"""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings

PENDING, READY, FAILED = "pending", "ready", "failed"
# The sort key of a user's `PendingExport`; never an export id (those are ids.new_id()).
IN_PROGRESS_KEY = "in-progress"


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


class PendingExport(Model):
    """The user's export in progress, at (user_id, IN_PROGRESS_KEY) in the exports table: at
    most one per user. Past `stale_at` (a job that never finished) a new request may take it."""

    class Meta:
        table_name = get_settings().exports_table
        region = region()
        billing_mode = BILLING_MODE

    user_id = UnicodeAttribute(hash_key=True)
    export_id = UnicodeAttribute(range_key=True, default=IN_PROGRESS_KEY)
    current = UnicodeAttribute()  # the id of the export in progress
    stale_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
