"""Reliability scenarios on the local stack (loopback only, bounded in count and time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.history import History, check
from tests.reliability.scenarios import run_load
from tests.support.aws import client, name
from tests.support.stack import running_stack
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
USERS = int(os.environ.get("OBJEKTIFY_LOAD_USERS", "4"))
SECONDS = float(os.environ.get("OBJEKTIFY_LOAD_SECONDS", "20"))


def test_load_leaves_no_anomaly(tmp_path: Path) -> None:
    with running_stack(tmp_path / "load", {"OBJEKTIFY_REPORT_THRESHOLD": "2"}) as state:
        history = History()
        result, users = run_load(state, USERS, SECONDS, history)
        anomalies = check(history, state, users)
    print(
        f"\nload, {USERS} users for {SECONDS:.0f} s:\n{result.summary()}\nanomalies: {len(anomalies)}"
    )
    for anomaly in anomalies:
        print("  " + anomaly)
    assert result.server_errors == 0
    assert anomalies == []


@pytest.mark.chaos  # timing-sensitive on a loaded 2-core machine: run by make chaos
def test_aws_faults_during_load_leave_no_anomaly(tmp_path: Path) -> None:
    faults = tmp_path / "faults.json"
    faults.write_text(
        json.dumps(
            {
                "services": ["dynamodb", "s3", "sqs", "sns"],
                "throttle_rate": 0.05,
                "error_rate": 0.05,
                "seed": 3,
            }
        )
    )
    with running_stack(
        tmp_path / "faults",
        {"OBJEKTIFY_LOCAL_FAULTS": str(faults), "OBJEKTIFY_REPORT_THRESHOLD": "2"},
    ) as state:
        history = History()
        result, users = run_load(state, USERS, SECONDS, history)
        faults.write_text(json.dumps({"services": []}))  # read back without faults
        anomalies = check(history, state, users)
    print(
        f"\nload with 10% AWS throttling and 5xx:\n{result.summary()}\nanomalies: {len(anomalies)}"
    )
    for anomaly in anomalies:
        print("  " + anomaly)
    assert result.server_errors == 0
    assert anomalies == []


def test_duplicated_and_reordered_events_change_nothing_twice(tmp_path: Path) -> None:
    env = {"OBJEKTIFY_LOCAL_PUMP_DUPLICATES": "1", "OBJEKTIFY_REPORT_THRESHOLD": "2"}
    with running_stack(tmp_path / "duplicates", env) as state:
        history = History()
        result, users = run_load(state, USERS, SECONDS / 2, history)
        anomalies = check(history, state, users)
    print(
        f"\nevery event delivered twice, reversed first:\n{result.summary()}\n"
        f"anomalies: {len(anomalies)}"
    )
    for anomaly in anomalies:
        print("  " + anomaly)
    assert anomalies == []


@pytest.mark.parametrize("queue", ["results", "scan", "exports", "erasures"])
def test_poison_messages_reach_the_dlq_and_redrive_replays_them(tmp_path: Path, queue: str) -> None:
    env = {"OBJEKTIFY_QUEUE_MAX_RECEIVES": "2", "OBJEKTIFY_QUEUE_VISIBILITY_SECONDS": "1"}
    with running_stack(tmp_path / queue, env) as state:
        sqs = client(state, "sqs")
        source = sqs.get_queue_url(QueueName=name(state, queue))["QueueUrl"]
        dlq = sqs.get_queue_url(QueueName=name(state, queue) + "-dlq")["QueueUrl"]
        poison = ["{not json", json.dumps({"unexpected": True}), "x" * 200_000]
        for body in poison:
            sqs.send_message(QueueUrl=source, MessageBody=body)

        def dead_letters() -> int | None:
            attrs = sqs.get_queue_attributes(
                QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
            )
            count = int(attrs["Attributes"]["ApproximateNumberOfMessages"])
            return count if count == len(poison) else None

        assert wait_for(dead_letters, timeout=60, what="the poison in the DLQ") == len(poison)
        env_cli = {**os.environ, "OBJEKTIFY_LOCAL_DIR": state.extra["dir"]}
        env_cli.pop("AWS_ENDPOINT_URL", None)
        out = subprocess.run(
            [sys.executable, "-m", "objektify.cli", "dlq", "redrive", name(state, queue)],
            cwd=ROOT,
            env=env_cli,
            capture_output=True,
            text=True,
            check=True,
        )
        assert f"{len(poison)} messages moved" in out.stdout
        # Still poison: they fail again and return to the DLQ; nothing is dropped silently.
        assert wait_for(dead_letters, timeout=60, what="the poison back in the DLQ") == len(poison)
