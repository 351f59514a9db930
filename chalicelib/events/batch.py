"""Powertools batch processing for SQS-fed handlers: each record succeeds or fails alone, and
the failures are reported back (ReportBatchItemFailures) so only they are retried."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from chalice.app import SQSEvent

from chalicelib.observability import flush, logger


def process(event: SQSEvent, handle: Callable[[Any], None]) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    raw = event.to_dict()
    logger.set_correlation_id(",".join(r.get("messageId", "") for r in raw.get("Records", [])[:3]))
    processor = BatchProcessor(event_type=EventType.SQS)
    try:
        return dict(process_partial_response(event=raw, record_handler=handle, processor=processor))
    finally:
        flush()


def created_objects(record: Any) -> list[tuple[str, str]]:
    """The (bucket, key) of each object an S3 event notification in an SQS record says was
    created; none for S3's test event; ValueError for anything else (to the DLQ, never
    dropped)."""
    event = json.loads(record.body)
    if isinstance(event, dict) and event.get("Event") == "s3:TestEvent":
        return []  # S3 sends one when the notification is configured
    if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        raise ValueError("not an S3 event notification")
    return [
        (entry["s3"]["bucket"]["name"], unquote_plus(entry["s3"]["object"]["key"]))
        for entry in event["Records"]
        if str(entry.get("eventName", "")).startswith("ObjectCreated")
    ]
