"""Powertools batch processing for SQS-fed handlers: each record succeeds or fails alone, and
the failures are reported back (ReportBatchItemFailures) so only they are retried."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
