"""Webhooks: a user's one hook (URL and signing secret) and the record of each delivery, in one
table keyed by the user, so a user's whole webhook state is one Query (GET /me/webhook, export)
and one batch of deletes (DELETE /me/webhook, erasure).

Access patterns
- the caller's hook: GetItem (user_id, "hook"); set with PutItem, removed with DeleteItem.
- the last deliveries, newest first: Query (user_id, entry begins_with "delivery#"), backwards;
  the sort key is "delivery#<final state's time>#<event id>", so it orders by event time.
- one delivery, once per event: PutItem with "no such key yet" (the stream may hand the same
  change twice; the second finds the key and enqueues nothing), then UpdateItem per attempt.
- everything of a user (DELETE /me/webhook, erasure): Query on the user, BatchWriteItem deletes.
Delivery records expire by TTL after `webhook_delivery_days`.

The secret is stored as is (the service must sign with it, so a hash would not do), in a table
encrypted at rest like every other; it is returned once, by the PUT that makes it, and never
read by any route afterwards (docs/data-inventory.yaml).
"""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings

HOOK = "hook"
DELIVERY_PREFIX = "delivery#"


class Webhook(Model):
    """The user's hook: where final states go, and the secret that signs them."""

    class Meta:
        table_name = get_settings().webhooks_table
        region = region()
        billing_mode = BILLING_MODE

    user_id = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True, default=HOOK)
    url = UnicodeAttribute()
    secret = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class WebhookDelivery(Model):
    """One event for the user's hook and how its delivery went."""

    class Meta:
        table_name = get_settings().webhooks_table
        region = region()
        billing_mode = BILLING_MODE

    user_id = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True)  # delivery#<event time>#<event id>
    event_id = UnicodeAttribute()
    generation_id = UnicodeAttribute()
    status = UnicodeAttribute()  # the generation's final state the event tells
    # pending | retrying | delivered | failed | dead_lettered | refused | cancelled
    state = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    last_result = UnicodeAttribute(null=True)  # "200", "500", "timeout", "connection_error"...
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


def delivery_entry(event_time: str, event_id: str) -> str:
    return f"{DELIVERY_PREFIX}{event_time}#{event_id}"
