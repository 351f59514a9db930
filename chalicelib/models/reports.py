"""Reports of published images by users.

Access patterns
- file a report: PutItem that must not exist (one report per user per image counts), in the
  same transaction as the image's report counter.
- the reports a user filed (export): Query on GSI `by_reporter` (reporter_id, created_at).
- an image's reports are summarised on the generation (count, reasons), so the moderation
  queue needs no per-item reads.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings

REASONS = ("sexual", "violent", "hateful", "illegal", "copyright", "privacy", "other")


class ByReporter(GlobalSecondaryIndex["Report"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by_reporter"
        projection = AllProjection()

    reporter_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Report(Model):
    class Meta:
        table_name = get_settings().reports_table
        region = region()
        billing_mode = BILLING_MODE

    image_id = UnicodeAttribute(hash_key=True)
    reporter_id = UnicodeAttribute(range_key=True)
    reason = UnicodeAttribute()
    note = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    by_reporter = ByReporter()
