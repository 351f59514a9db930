"""Webhook deliveries from their queue: one try per message received; a try that should be
made again leaves its message on the queue (hidden for the backoff) until the DLQ takes it."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib.events.batch import process
from chalicelib.settings import get_settings

bp = Blueprint(__name__)


def handle_delivery(record: Any) -> None:
    from chalicelib.services import webhooks

    # Powertools' SQSRecord: which receive of the message this is (1 on the first try).
    receive_count = int(record.attributes.approximate_receive_count or 1)
    webhooks.deliver(record.body, record.receipt_handle, receive_count)


# A few deliveries per invocation: each waits at most `webhook_timeout_seconds` for its receiver.
@bp.on_sqs_message(queue=get_settings().webhooks_queue, batch_size=5)
def on_webhook_delivery(event: SQSEvent) -> dict[str, Any]:
    return process(event, handle_delivery)
