"""Uploaded images landing in S3 (ObjectCreated → SQS) → the upload scan."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from chalice.app import Blueprint, SQSEvent

from chalicelib.events.batch import process
from chalicelib.observability import logger
from chalicelib.settings import get_settings

bp = Blueprint(__name__)


def handle_record(record: Any) -> None:
    from chalicelib.services import upload_scan  # Pillow and the scanner: only this needs them

    event = json.loads(record.body)
    if isinstance(event, dict) and event.get("Event") == "s3:TestEvent":
        return  # S3 sends one when the notification is configured
    if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        raise ValueError("not an S3 event notification")  # to the DLQ, never dropped
    for entry in event["Records"]:
        if not str(entry.get("eventName", "")).startswith("ObjectCreated"):
            continue
        bucket = entry["s3"]["bucket"]["name"]
        key = unquote_plus(entry["s3"]["object"]["key"])
        outcome = upload_scan.scan_upload(bucket, key)
        logger.info("upload scanned", extra={"key": key, "outcome": outcome})


@bp.on_sqs_message(queue=get_settings().upload_scan_queue, batch_size=5)
def on_upload_created(event: SQSEvent) -> dict[str, Any]:
    return process(event, handle_record)
