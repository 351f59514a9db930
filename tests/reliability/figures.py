"""The reliability table: each scenario adds a row; `report.py` prints it after the run."""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from local.config import StackState
from tests.reliability.history import FINAL, History
from tests.support.aws import client
from tests.support.client import Api

FILE = Path(
    os.environ.get("OBJEKTIFY_RELIABILITY_FIGURES", "test-artifacts/reliability-figures.json")
)


@dataclass
class Row:
    scenario: str
    operations: int = 0
    anomalies: int = 0
    server_errors: int = 0  # 5xx other than 503 with Retry-After
    dlq_messages: int = 0
    stuck: int = 0  # accepted generations not final once the sweeper's deadline has passed
    p95_submit_to_final: float | None = None  # seconds, created_at → updated_at of final ones
    notes: list[str] = field(default_factory=list)


def add(row: Row) -> None:
    FILE.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = json.loads(FILE.read_text()) if FILE.exists() else {}
    data[row.scenario] = asdict(row)
    FILE.write_text(json.dumps(data, indent=2))


def accumulate(scenario: str, operations: int, dlq_messages: int, anomalies: int = 0) -> None:
    """Add to a scenario's row (one test per queue, one row)."""
    data: dict[str, Any] = json.loads(FILE.read_text()) if FILE.exists() else {}
    old = data.get(scenario) or asdict(Row(scenario))
    row = Row(
        scenario,
        operations=old["operations"] + operations,
        anomalies=old["anomalies"] + anomalies,
        dlq_messages=old["dlq_messages"] + dlq_messages,
        notes=old["notes"],
    )
    add(row)


def dead_letters(state: StackState) -> int:
    """Messages now waiting in every DLQ of the stack."""
    sqs = client(state, "sqs")
    total = 0
    for url in sqs.list_queues().get("QueueUrls", []):
        if url.endswith("-dlq"):
            attrs = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            total += int(attrs["ApproximateNumberOfMessages"])
            total += int(attrs["ApproximateNumberOfMessagesNotVisible"])
    return total


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def generation_figures(history: History, users: dict[str, Api]) -> tuple[int, float | None]:
    """(stuck, p95 seconds from submit to final state) over every accepted submit."""
    stuck, durations = 0, []
    for op in history.of("submit"):
        if op.status != 202:
            continue
        answer = users[op.user].get(f"/generations/{op.answer['id']}")
        if answer.status_code != 200:
            continue
        body = answer.json()
        if body["status"] not in FINAL:
            stuck += 1
            continue
        durations.append((_at(body["updated_at"]) - _at(body["created_at"])).total_seconds())
    if not durations:
        return stuck, None
    ordered = sorted(durations)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return stuck, max(p95, statistics.median(ordered))
