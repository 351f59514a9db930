"""The generations table's stream: what follows each change of a generation's status.

For every record whose status changed (an INSERT, a MODIFY to another status, a REMOVE):
1. `queue_position.record` moves the endpoint's queue counters (a new queued job takes a
   ticket; one that leaves `queued` is counted as finished);
2. the generation's body is built as GET /generations/{id} answers its owner (with `queue`
   while queued), from the record's new image: the state this change made, not whatever the
   item holds by the time the record is read;
3. the owner's connected clients are sent `{"type": "generation", "generation": body}`;
4. a final state is handed to the owner's webhook (`webhooks.enqueue`: a delivery record and an
   SQS message; the POST itself happens on the webhooks queue's consumer, so a receiver that is
   down never slows this stream).

Streams deliver at least once, and a batch that failed is read again from its first failure,
so every step is harmless when a record comes again: `record` takes a ticket only for an item
without one and counts a finish only with the ticket still on the item (removed in the same
transaction); `enqueue` writes its delivery record on the condition that the event's id (from
the generation, its status and its `updated_at`) is new, so a repeated final state queues
nothing; a push sends a state the client already shows, which changes nothing there.

One failing record does not lose the others: each is handled alone and the failures are
reported back (ReportBatchItemFailures, by sequence number), so Lambda reads the stream again
from the first failure; records of the item that failed are not handled after it in the same
batch, so an item's changes are never applied out of order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint, DynamoDBEvent

from chalicelib.observability import count, flush, logger
from chalicelib.settings import get_settings

bp = Blueprint(__name__)

# The stream's ARN is not known when Chalice packages the app: the CDK app replaces it with the
# table's stream (infra/api.py), and the local event pump finds the stream by the table's name.
STREAM_ARN = (
    f"arn:aws:dynamodb:{get_settings().region}:123456789012:"
    f"table/{get_settings().generations_table}/stream/latest"
)


def _status(image: dict[str, Any] | None) -> str | None:
    if not image:
        return None
    value = image.get("status", {})
    return str(value["S"]) if isinstance(value, dict) and "S" in value else None


def status_change(record: Any) -> tuple[str, str | None, str | None] | None:
    """(generation id, old status, new status) when the record changes the status, else None."""
    old, new = _status(record.old_image), _status(record.new_image)
    if record.event_name == "MODIFY" and old == new:
        return None  # another attribute (a queue ticket, a scan's progress)
    if old is None and new is None:
        return None
    keys = record.keys or {}
    generation_id = str((keys.get("generation_id") or {}).get("S", ""))
    if not generation_id:
        return None
    return generation_id, old, new


def owner_body(image: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(owner id, body as GET /generations/{id} shows its owner) for a stream image."""
    from chalicelib.api import views
    from chalicelib.models.generations import QUEUED, Generation
    from chalicelib.services import generation as generations

    item = Generation.from_raw_data(image)
    if item.status == QUEUED and item.queue_ticket is None:
        # The ticket `queue_position.record` just took is on the item, not in this image.
        try:
            current = Generation.get(item.generation_id, consistent_read=True)
        except Generation.DoesNotExist:
            current = None
        if current is not None and current.status == QUEUED:
            item.queue_ticket = current.queue_ticket
    return item.owner_id, views.generation(generations.owner_view(item))


def handle(record: Any) -> None:
    from chalicelib.models.generations import FINAL_STATES
    from chalicelib.services import live, queue_position, webhooks

    change = status_change(record)
    if change is None:
        return
    generation_id, old_status, new_status = change
    queue_position.record(generation_id, old_status, new_status)
    if new_status is None:
        return  # the item was deleted (erasure): nothing left to tell its owner
    owner_id, body = owner_body(record.new_image)
    live.push(owner_id, {"type": "generation", "generation": body})
    if new_status in FINAL_STATES:
        webhooks.enqueue(owner_id, body)
    logger.info(
        "generation changed",
        extra={"generation_id": generation_id, "from": old_status, "to": new_status},
    )


def process(event: DynamoDBEvent) -> dict[str, Any]:
    return process_records(event, handle, "GenerationChangeFailed")


def process_records(
    event: DynamoDBEvent, handle: Callable[[Any], None], failure_metric: str
) -> dict[str, Any]:
    """Handle each record in order; report the failures (and the records of their items that
    came after them) so that Lambda reads the stream again from the first one. Shared by the
    tables' streams (this one, events/decisions.py)."""
    failed: list[str] = []
    failed_items: set[str] = set()
    try:
        for record in event:
            item = str(record.keys)
            if item in failed_items:
                failed.append(record.sequence_number)
                continue
            try:
                handle(record)
            except Exception:
                logger.exception(
                    "stream record failed", extra={"sequence_number": record.sequence_number}
                )
                count(failure_metric)
                failed.append(record.sequence_number)
                failed_items.add(item)
    finally:
        flush()
    return {"batchItemFailures": [{"itemIdentifier": number} for number in failed]}


@bp.on_dynamodb_record(stream_arn=STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON")
def on_generation_change(event: DynamoDBEvent) -> dict[str, Any]:
    return process(event)
