"""Model outputs landing in S3 (ObjectCreated → SQS) → the moderation scan."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib.events.batch import created_objects, process
from chalicelib.observability import logger
from chalicelib.settings import get_settings

bp = Blueprint(__name__)


def handle_record(record: Any) -> None:
    from chalicelib.services import scan  # Pillow and the scanner: only this function needs them

    for bucket, key in created_objects(record):
        outcome = scan.scan_output(bucket, key)
        logger.info("scanned", extra={"key": key, "outcome": outcome})


@bp.on_sqs_message(queue=get_settings().scan_queue, batch_size=5)
def on_output_created(event: SQSEvent) -> dict[str, Any]:
    return process(event, handle_record)
