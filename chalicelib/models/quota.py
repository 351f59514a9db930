"""The rolling generation quota: a fixed set of slot items per user.

A user has `quota_limit` slots (`user_id`, `slot` = 0..limit-1). Taking a unit claims one slot
whose last use (`taken_at`, epoch ms) is older than the window, with a conditional UpdateItem in
the same transaction as the generation it pays for. Concurrent submits of one user claim
different slots without reading or rewriting a shared item, so they never queue behind each
other: two submits race only when they pick the same slot, and then one condition fails and
the loser picks another. At most `quota_limit` units are ever taken within a window, because
each slot is taken at most once per window.

Access patterns
- claim slot n: UpdateItem with the condition "never taken, or taken before now - window",
  inside the submit's transaction.
- which slots are free (only after a claim lost its race, and to say when one frees up):
  Query on `user_id`, strongly consistent; at most `quota_limit` small items.
- erasure: the same Query, then delete each. Slots also expire by TTL once their window has
  passed, so an idle user holds none.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings


class QuotaSlot(Model):
    class Meta:
        table_name = get_settings().quota_table
        region = region()
        billing_mode = BILLING_MODE

    user_id = UnicodeAttribute(hash_key=True)
    slot = NumberAttribute(range_key=True)
    taken_at = NumberAttribute(null=True)  # epoch milliseconds of the last unit taken here
    generation_id = UnicodeAttribute(null=True)  # what the unit paid for
    expires_at = TTLAttribute(null=True)
