"""The audit log: append-only entries for every moderation decision, restriction, image view,
terms and switch change. Never updated or deleted by any API. Erasure alone rewrites the
entries naming an erased user, as new entries that keep what happened but not who.

Access patterns
- append: PutItem that must not overwrite (one entry) or BatchWriteItem (the views of a queue
  page, in one round trip).
- the entries about one user or by one user (export, erasure): GSIs `by_target`, `by_actor`.
- page newest first: Query on the month partition (`pk = "log#YYYY-MM"`), descending, then the
  months before it. A month partition keeps writes to one key bounded by moderator activity.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import MapAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings


def month_partition(iso_time: str) -> str:
    return f"log#{iso_time[:7]}"


class ByTarget(GlobalSecondaryIndex["AuditEntry"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by_target"
        projection = AllProjection()

    target_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class ByActor(GlobalSecondaryIndex["AuditEntry"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by_actor"
        projection = AllProjection()

    actor = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


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

    by_target = ByTarget()
    by_actor = ByActor()
