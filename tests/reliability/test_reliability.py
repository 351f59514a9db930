"""Reliability scenarios on the local stack (loopback only, bounded in count and time)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from local.config import StackState
from tests.reliability import figures
from tests.reliability.history import History, check
from tests.reliability.scenarios import LoadResult, run_load
from tests.support.aws import client, name
from tests.support.client import Api, anonymous, sign_in
from tests.support.stack import running_stack
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
USERS = int(os.environ.get("OBJEKTIFY_LOAD_USERS", "4"))
SECONDS = float(os.environ.get("OBJEKTIFY_LOAD_SECONDS", "10"))
# The restart scenario needs work in flight across three restarts, a few seconds apart.
RESTART_SECONDS = max(SECONDS, 20.0)


def measured(
    scenario: str,
    state: StackState,
    history: History,
    users: dict[str, Api],
    result: LoadResult,
    notes: list[str] | None = None,
) -> tuple[list[str], figures.Row]:
    """Check the history, print the figures and add the scenario's row to the table."""
    anomalies = check(history, state, users)
    stuck, p95 = figures.generation_figures(history, users)
    dlq = figures.dead_letters(state)
    if dlq:
        anomalies.append(f"{dlq} messages reached a DLQ")
    row = figures.Row(
        scenario,
        operations=result.requests,
        anomalies=len(anomalies),
        server_errors=result.server_errors,
        dlq_messages=dlq,
        stuck=stuck,
        p95_submit_to_final=p95,
        notes=notes or [],
    )
    figures.add(row)
    print(f"\n{scenario}, {USERS} users:\n{result.summary()}\nanomalies: {len(anomalies)}")
    for anomaly in anomalies:
        print("  " + anomaly)
    return anomalies, row


def test_load_leaves_no_anomaly(tmp_path: Path) -> None:
    with running_stack(tmp_path / "load", {"OBJEKTIFY_REPORT_THRESHOLD": "2"}) as state:
        history = History()
        result, users = run_load(state, USERS, SECONDS, history)
        anomalies, row = measured("1 load", state, history, users, result)
    assert result.server_errors == 0
    assert anomalies == []
    assert row.stuck == 0


def test_killed_processes_restart_and_in_flight_generations_finish(tmp_path: Path) -> None:
    """Scenario 7: the app, the event pump and the local SageMaker each get SIGKILL mid-load."""
    with running_stack(tmp_path / "restarts", {"OBJEKTIFY_REPORT_THRESHOLD": "2"}) as state:
        pid_file = Path(state.extra["dir"]) / "children.json"
        killed: list[str] = []

        def kill_each() -> None:
            for victim in ("api", "pump", "sagemaker"):
                time.sleep(RESTART_SECONDS / 4)
                pid = json.loads(pid_file.read_text())[victim]
                os.kill(pid, signal.SIGKILL)
                wait_for(
                    lambda v=victim, p=pid: json.loads(pid_file.read_text())[v] != p,
                    timeout=30,
                    what=f"the supervisor to start {victim} again",
                )
                killed.append(victim)

        killer = threading.Thread(target=kill_each)
        killer.start()
        history = History()
        result, users = run_load(state, USERS, RESTART_SECONDS, history)
        killer.join()
        statuses = [
            users[o.user].get(f"/generations/{o.answer['id']}").json()["status"]
            for o in history.of("submit")
            if o.status == 202
        ]
        interrupted = len(history.of("interrupted submit"))
        anomalies, row = measured(
            "7 restarts (SIGKILL)",
            state,
            history,
            users,
            result,
            notes=[
                f"killed {', '.join(killed)}; {result.connection_errors} requests got no answer, "
                f"{interrupted} submits retried with their Idempotency-Key; "
                f"{statuses.count('failed')} of {len(statuses)} generations failed"
            ],
        )
    assert killed == ["api", "pump", "sagemaker"]
    assert statuses, "no generation was accepted: the load never ran under the kills"
    assert result.server_errors == 0
    assert anomalies == []
    assert row.stuck == 0
    assert "failed" not in statuses  # in-flight work finished; none was given up


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
        anomalies, row = measured("6 AWS faults", state, history, users, result)
    assert result.server_errors == 0
    assert anomalies == []
    assert row.stuck == 0


def test_a_write_aws_keeps_refusing_answers_503_and_is_never_read_as_a_refusal(
    tmp_path: Path,
) -> None:
    """When every DynamoDB transaction is throttled past botocore's retries, a report, a delete
    and a moderator's removal answer 503 with Retry-After (not 202, 404 or 409), change nothing,
    and go through once the throttling stops."""
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({"services": []}))
    with running_stack(tmp_path / "throttled", {"OBJEKTIFY_LOCAL_FAULTS": str(faults)}) as state:
        alice, bob = sign_in(state), sign_in(state)
        moderator = sign_in(state, "moderators")
        for api in (alice, bob):
            api.accept_current_terms()
        images = [_published(alice, f"a quiet harbour {n}") for n in range(2)]
        public = anonymous(state)

        faults.write_text(
            json.dumps(
                {
                    "services": ["dynamodb"],
                    "operations": ["TransactWriteItems"],
                    "throttle_rate": 1.0,
                    "seed": 7,
                }
            )
        )
        time.sleep(1.5)  # the proxy reads its fault file every second
        refused = [
            bob.post(f"/gallery/{images[0]}/reports", json={"reason": "other"}),
            alice.delete(f"/gallery/{images[0]}"),
            moderator.post(
                f"/moderation/images/{images[1]}/decision",
                json={"action": "remove", "reason": "violent"},
            ),
        ]
        for answer in refused:
            assert answer.status_code == 503, answer.text
            assert answer.json()["code"] == "unavailable"
            assert int(answer.headers["Retry-After"]) > 0
        for image_id in images:
            assert public.get(f"/gallery/{image_id}").status_code == 200
        audit = moderator.get("/moderation/audit").json()["items"]
        assert not [e for e in audit if e["target"]["id"] in images]

        faults.write_text(json.dumps({"services": []}))
        time.sleep(1.5)
        # (In this order: a reported image awaits a decision, which its creator cannot dodge.)
        assert alice.delete(f"/gallery/{images[0]}").status_code == 204
        assert (
            bob.post(f"/gallery/{images[1]}/reports", json={"reason": "other"}).status_code == 202
        )
        removal = moderator.post(
            f"/moderation/images/{images[1]}/decision",
            json={"action": "remove", "reason": "violent"},
        )
        assert removal.status_code == 200, removal.text
        for image_id in images:
            assert public.get(f"/gallery/{image_id}").status_code == 404
        audit = moderator.get("/moderation/audit").json()["items"]
        assert len([e for e in audit if e["target"]["id"] == images[1]]) == 1


def _published(api: Api, prompt: str) -> str:
    created = api.post("/generations", json={"prompt": prompt, "steps": 2})
    assert created.status_code == 202, created.text
    generation_id = str(created.json()["id"])

    def status() -> str | None:
        found = api.get(f"/generations/{generation_id}").json().get("status")
        return found if found in ("published", "in_review", "rejected", "failed") else None

    assert wait_for(status, timeout=90, what="the image to be published") == "published"
    return generation_id


def test_duplicated_and_reordered_events_change_nothing_twice(tmp_path: Path) -> None:
    env = {"OBJEKTIFY_LOCAL_PUMP_DUPLICATES": "1", "OBJEKTIFY_REPORT_THRESHOLD": "2"}
    with running_stack(tmp_path / "duplicates", env) as state:
        history = History()
        result, users = run_load(state, USERS, SECONDS / 2, history)
        anomalies, row = measured("2 duplicate + reordered events", state, history, users, result)
    assert anomalies == []
    assert row.stuck == 0


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
    figures.accumulate("3 poison messages", operations=len(poison), dlq_messages=len(poison))
