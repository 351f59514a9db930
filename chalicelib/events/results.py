"""SageMaker async success/error notifications (SNS → SQS, raw delivery) → generation state.

The service is imported when a batch arrives: loading this module (all the function's init
does) stays as cheap as Chalice and Powertools, see tests/unit/test_import_budget.py."""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib.events.batch import process
from chalicelib.observability import count, logger
from chalicelib.settings import get_settings

bp = Blueprint(__name__)


def handle_record(record: Any) -> None:
    from chalicelib.services import generation

    notification = json.loads(record.body)
    if isinstance(notification, dict) and notification.get("Type") == "Notification":
        notification = json.loads(notification["Message"])  # an SNS envelope (non-raw delivery)
    outcome = generation.record_inference_result(notification)
    logger.info(
        "inference result",
        extra={"outcome": outcome, "generation_id": notification.get("inferenceId")},
    )
    count(f"InferenceResult{outcome.title()}")


@bp.on_sqs_message(queue=get_settings().results_queue, batch_size=10)
def on_inference_result(event: SQSEvent) -> dict[str, Any]:
    return process(event, handle_record)
