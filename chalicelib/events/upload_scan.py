"""Uploaded images landing in S3 (ObjectCreated → SQS) → the upload scan."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib.events.batch import created_objects, process
from chalicelib.observability import logger
from chalicelib.settings import get_settings

bp = Blueprint(__name__)


def handle_record(record: Any) -> None:
    """Scans each upload the record names. A scan that fails on the queue's last delivery
    refuses its upload as `scan_failed` (`upload_scan.give_up`), then fails the record still,
    so the message goes to the dead-letter queue for operators."""
    from chalicelib.services import upload_scan  # Pillow and the scanner: only this needs them

    # Powertools' SQSRecord: which receive of the message this is (1 on the first try).
    last_try = int(record.attributes.approximate_receive_count or 1) >= (
        get_settings().queue_max_receives
    )
    for bucket, key in created_objects(record):
        try:
            outcome = upload_scan.scan_upload(bucket, key)
        except Exception:
            if last_try:
                upload_scan.give_up(bucket, key)
            raise
        logger.info("upload scanned", extra={"key": key, "outcome": outcome})


@bp.on_sqs_message(queue=get_settings().upload_scan_queue, batch_size=5)
def on_upload_created(event: SQSEvent) -> dict[str, Any]:
    return process(event, handle_record)
