"""SageMaker async success/error notifications (SNS → SQS, raw delivery) → generation state."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import Blueprint, SQSEvent

from chalicelib.events.batch import process
from chalicelib.observability import logger, metrics
from chalicelib.services import generation
from chalicelib.settings import get_settings

bp = Blueprint(__name__)


def handle_record(record: Any) -> None:
    notification = json.loads(record.body)
    if isinstance(notification, dict) and notification.get("Type") == "Notification":
        notification = json.loads(notification["Message"])  # an SNS envelope (non-raw delivery)
    outcome = generation.record_inference_result(notification)
    logger.info(
        "inference result",
        extra={"outcome": outcome, "generation_id": notification.get("inferenceId")},
    )
    metrics.add_metric(name=f"InferenceResult{outcome.title()}", unit=MetricUnit.Count, value=1)


@bp.on_sqs_message(queue=get_settings().results_queue, batch_size=10)
def on_inference_result(event: SQSEvent) -> dict[str, Any]:
    return process(event, handle_record)
