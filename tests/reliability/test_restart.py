"""Scenario 8: the whole local system stopped and started again keeps every table, object,
queued message and user; `make reset` wipes it on purpose."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from local.config import StackState
from tests.reliability import figures
from tests.reliability.history import FINAL
from tests.support.aws import client, name
from tests.support.client import Api, sign_in
from tests.support.stack import STARTED, running_stack
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def finished(api: Api, generation_id: str, timeout: float = 90) -> dict:
    def probe() -> dict | None:
        body = api.get(f"/generations/{generation_id}").json()
        return body if body["status"] in FINAL else None

    return wait_for(probe, timeout=timeout, what=f"generation {generation_id} to finish")


def dlq_bodies(state: StackState) -> list[str]:
    sqs = client(state, "sqs")
    url = sqs.get_queue_url(QueueName=name(state, "results") + "-dlq")["QueueUrl"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [m["Body"] for m in got.get("Messages", [])]


def make_reset(directory: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OBJEKTIFY_LOCAL_DIR": str(directory)}
    return subprocess.run(
        ["make", "-s", "reset"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_a_restarted_stack_keeps_galleries_consents_audit_and_queued_work(tmp_path: Path) -> None:
    directory = tmp_path / "dev"
    with running_stack(directory) as first:
        alice = sign_in(first, name="alice")
        alice.accept_current_terms()
        moderator = sign_in(first, "moderators", name="mona")
        kept, removed = (
            alice.post("/generations", json={"prompt": f"{what} at dawn", "steps": 1}).json()["id"]
            for what in ("a harbour", "a windmill")
        )
        assert finished(alice, kept)["status"] == "published"
        assert finished(alice, removed)["status"] == "published"
        decision = moderator.post(
            f"/moderation/images/{removed}/decision", json={"action": "remove", "reason": "spam"}
        )
        assert decision.status_code == 200, decision.text
        sqs = client(first, "sqs")
        dlq = sqs.get_queue_url(QueueName=name(first, "results") + "-dlq")["QueueUrl"]
        sqs.send_message(QueueUrl=dlq, MessageBody='{"left": "for an operator"}')
        audit_before = moderator.get("/moderation/audit?limit=100").json()["items"]
        # Accepted just before the stop: still on its way through the model and the events.
        in_flight = alice.post(
            "/generations", json={"prompt": "a lighthouse at night", "steps": 1}
        ).json()["id"]
        refused_while_running = make_reset(directory)

    assert refused_while_running.returncode != 0
    assert "stop it first" in refused_while_running.stdout + refused_while_running.stderr
    started = time.monotonic()
    with running_stack(directory) as second:
        restart_seconds = time.monotonic() - started
        # The same tokens still work: the pool, its users and its keys were kept.
        alice, moderator = (Api(second, token=api.token) for api in (alice, moderator))
        me = alice.get("/me").json()
        assert me["consent"]["required"] is False
        gallery = Api(second).get(f"/users/{me['user_id']}/gallery").json()["items"]
        assert kept in [item["id"] for item in gallery]
        assert removed not in [item["id"] for item in gallery]
        assert Api(second).get(f"/gallery/{removed}").status_code == 404
        assert Api(second).get(f"/gallery/{kept}/download", allow_redirects=True).status_code == 200
        audit_after = moderator.get("/moderation/audit?limit=100").json()["items"]
        assert all(entry in audit_after for entry in audit_before)
        assert any(e["target"]["id"] == removed for e in audit_after)
        assert dlq_bodies(second) == ['{"left": "for an operator"}']
        assert finished(alice, in_flight)["status"] == "published"
        gallery = Api(second).get(f"/users/{me['user_id']}/gallery").json()["items"]
        assert [item["id"] for item in gallery] == [in_flight, kept]
        # Work goes on as before.
        again = alice.post("/generations", json={"prompt": "a harbour at dusk", "steps": 1})
        assert again.status_code == 202
        assert finished(alice, again.json()["id"])["status"] == "published"
        mine = alice.get("/me/generations?limit=100").json()["items"]

    assert {g["id"] for g in mine} >= {kept, removed, in_flight}
    kept_log = tmp_path / "log"  # the secrets scan at the end of the run still reads it
    kept_log.mkdir()
    for path in [directory / "stack.log", *directory.glob("*.secret")]:
        shutil.copy(path, kept_log / path.name)
    STARTED.append(kept_log)
    assert make_reset(directory).returncode == 0
    assert not directory.exists()
    figures.add(
        figures.Row(
            "8 whole stack restarted",
            operations=len(mine) + 2,
            notes=[
                f"kept: 1 gallery, consent, {len(audit_before)} audit entries, 1 DLQ message, "
                f"1 generation in flight (finished after the restart); restart took "
                f"{restart_seconds:.0f} s; make reset refused while running, then wiped"
            ],
        )
    )
