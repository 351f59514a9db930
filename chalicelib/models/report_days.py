"""The transparency report's counts, one small item per UTC day and shard, so the public report
reads a bounded number of items per day of its period, however long the history.

Each decision, appeal and notice adds to its day's counters in the transaction that writes it:
the counters move exactly when the records they count do (a retried or refused write adds
nothing). A day is split into `SHARDS` items, one picked at random per write, so concurrent
decisions rarely meet on one item (two transactions on the same item at once conflict).

The counters are top-level number attributes named after the report's own fields, e.g.
`notices.by_category.copyright`, `decisions.by_ground.illegal`, `appeals.reversed`, and
`wait_minutes.<m>`: a histogram of notice-to-decision waits (see `wait_bucket`). Their names
depend on the data (categories, decisions), so they are not declared attributes: an UpdateItem
ADDs to them by name, and `counts` holds them when an item is read.

Access patterns
- add to a day's counters: UpdateItem (ADD) of one shard's item, inside the transaction of
  the decision, appeal or notice it counts.
- the counters of a period (the transparency report): BatchGetItem of every shard of every
  day (100 keys a request: a 30-day report is two requests, a year's fifteen).
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings

SHARDS = 4
# Waits are kept to the minute up to two days, and to the hour beyond: a day's histogram then
# has at most a few thousand buckets, far below DynamoDB's 400 KB an item.
MINUTE_RESOLUTION_UP_TO = 48 * 60


def wait_bucket(seconds: float) -> int:
    """The histogram bucket of a notice-to-decision wait, in minutes: the nearest minute under
    48 hours, the nearest hour (in minutes) from then on."""
    minutes = round(seconds / 60)
    if minutes < MINUTE_RESOLUTION_UP_TO:
        return max(minutes, 0)
    return round(seconds / 3600) * 60


class ReportDay(Model):
    class Meta:
        table_name = get_settings().report_days_table
        region = region()
        billing_mode = BILLING_MODE

    day = UnicodeAttribute(hash_key=True)  # YYYY-MM-DD, in UTC
    shard = NumberAttribute(range_key=True)  # 0 .. SHARDS - 1

    counts: dict[str, int]

    @classmethod
    def from_raw_data(cls, data: dict[str, Any]) -> ReportDay:
        """The item, with its counters (the attributes beside the key) in `counts`."""
        item = super().from_raw_data(data)
        item.counts = {
            name: int(value["N"])
            for name, value in data.items()
            if name not in ("day", "shard") and "N" in value
        }
        return item
