"""Queue-driven privacy work: data exports and the rest of an erasure; the dataset export.
Each handler imports its service when called: the API function loads this module too."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib.events.batch import process
from chalicelib.observability import logger
from chalicelib.settings import get_settings

bp = Blueprint(__name__)


def handle_export(record: Any) -> None:
    from chalicelib.services import data_export

    body = json.loads(record.body)
    outcome = data_export.run_export(str(body["user_id"]), str(body["export_id"]))
    logger.info("export", extra={"export_id": body["export_id"], "outcome": outcome})


def handle_erasure(record: Any) -> None:
    from chalicelib.services import erasure

    erasure.finish_erasure(str(json.loads(record.body)["user_id"]))


@bp.on_sqs_message(queue=get_settings().exports_queue, batch_size=1)
def on_export_requested(event: SQSEvent) -> dict[str, Any]:
    return process(event, handle_export)


@bp.on_sqs_message(queue=get_settings().erasures_queue, batch_size=1)
def on_erasure_requested(event: SQSEvent) -> dict[str, Any]:
    return process(event, handle_erasure)


@bp.lambda_function(name="dataset_export")
def export_training_dataset(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """`{"out": "s3://bucket/prefix", "since": "2026-01-01T00:00:00Z"?}` → counts."""
    from chalicelib.services import dataset

    since = datetime.fromisoformat(event["since"]) if event.get("since") else None
    result = dataset.export_dataset(str(event["out"]), since)
    return {
        "records": result.records,
        "shards": result.shards,
        "skipped": result.skipped_shards,
        "out": result.out,
    }
