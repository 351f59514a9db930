"""The audit log: append-only entries for every moderation decision, restriction, image view,
terms and switch change. Never updated or deleted by any API.

Access patterns
- append: PutItem that must not overwrite (one entry) or BatchWriteItem (the views of a queue
  page, in one round trip).
- page newest first: Query on the month partition (`pk = "log#YYYY-MM"`), descending, then the
  months before it. A month partition keeps writes to one key bounded by moderator activity.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import MapAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings


def month_partition(iso_time: str) -> str:
    return f"log#{iso_time[:7]}"


class AuditEntry(Model):
    class Meta:
        table_name = get_settings().audit_table
        region = region()
        billing_mode = BILLING_MODE

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # "<ISO time>#<entry id>"
    entry_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()  # a user id, "policy" or "link:<minted by>"
    action = UnicodeAttribute()
    target_type = UnicodeAttribute()
    target_id = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    details = MapAttribute[str, Any](null=True)  # type: ignore[no-untyped-call]
