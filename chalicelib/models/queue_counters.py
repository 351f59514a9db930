"""Queue position: counters per inference endpoint, so a queued generation's place is
computed from two numbers instead of counting the queue.

Access patterns
- a ticket for a newly queued generation: UpdateItem ADD accepted 1 on (endpoint), returning
  the new value (the ticket), then the ticket is written on the generation.
- a generation leaves `queued`: one transaction ADD finished 1 on (endpoint) and on the
  minute's item (endpoint#minute#<YYYYmmddHHMM>, TTL), with the ticket removed from the
  generation on the condition that it is still there, so a repeated stream record counts once.
- the place and estimate of one generation: BatchGetItem of the endpoint's item and its last
  `queue_throughput_minutes` minute items (one request).
The endpoint's item takes one write per accepted and per finished generation: at DynamoDB's
1,000 writes/s a partition, ≈500 generations/s per endpoint, far above what a GPU fleet paints.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings


class QueueCounter(Model):
    class Meta:
        table_name = get_settings().queue_counters_table
        region = region()
        billing_mode = BILLING_MODE

    counter = UnicodeAttribute(hash_key=True)  # <endpoint> or <endpoint>#minute#<YYYYmmddHHMM>
    accepted = NumberAttribute(null=True)
    finished = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)  # minute items only


def minute_key(endpoint: str, minute: str) -> str:
    return f"{endpoint}#minute#{minute}"
