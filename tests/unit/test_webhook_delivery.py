"""The delivery rules and the queue counters against in-process AWS (moto): one record per
event, what each answer of a receiver leads to, and counters that count a repeated stream
record once. The receiver is a stand-in for the HTTP adapter; the SSRF guard runs for real."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.adapters import webhook_http
from chalicelib.services import webhooks
from tests.support.in_process_aws import aws, consented_profile

URL = "https://93.184.216.34/hooks"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with aws():
        from chalicelib.adapters.aws import client
        from chalicelib.settings import get_settings

        sqs = client("sqs")
        url = sqs.create_queue(QueueName=get_settings().webhooks_queue)["QueueUrl"]
        sent: list[dict[str, Any]] = []
        answers: list[webhook_http.PostResult] = []

        def post(*args: Any) -> webhook_http.PostResult:
            sent.append({"address": args[3], "body": args[5], "headers": args[6]})
            return answers.pop(0) if answers else webhook_http.PostResult(status=200)

        monkeypatch.setattr(webhook_http, "post", post)
        yield {"sqs": sqs, "queue": url, "sent": sent, "answers": answers}


def generation(status: str, gid: str = "01J0000000000000000000000A") -> dict[str, Any]:
    return {"id": gid, "status": status, "prompt": "p", "updated_at": "2026-12-02T10:00:00.000Z"}


def receive(world: dict[str, Any]) -> dict[str, Any]:
    got = world["sqs"].receive_message(
        QueueUrl=world["queue"], AttributeNames=["All"], MaxNumberOfMessages=1
    )["Messages"]
    first: dict[str, Any] = got[0]
    return first


def hooked_user() -> str:
    user = consented_profile("user-1")
    webhooks.set_hook(user, URL)
    return user


def test_each_final_state_is_queued_once_and_nothing_else(world: dict[str, Any]) -> None:
    user = hooked_user()
    assert webhooks.enqueue(user, generation("queued")) is None
    assert webhooks.enqueue(user, generation("scanning")) is None
    first = webhooks.enqueue(user, generation("in_review"))
    assert first is not None
    assert webhooks.enqueue(user, generation("in_review")) is None  # a repeated stream record
    assert webhooks.enqueue(user, generation("rejected", "01J0000000000000000000000B"))
    assert webhooks.enqueue("someone-without-a-hook", generation("published")) is None
    attributes = world["sqs"].get_queue_attributes(
        QueueUrl=world["queue"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "2"
    shown = webhooks.hook_state(user)
    assert {d["event"] for d in shown["deliveries"]} == {"in_review", "rejected"}
    assert {d["status"] for d in shown["deliveries"]} == {"pending"}


def test_a_delivery_is_signed_and_a_2xx_settles_it(world: dict[str, Any]) -> None:
    user = consented_profile("user-2")
    secret = webhooks.set_hook(user, URL).secret
    event = webhooks.enqueue(user, generation("published"))
    message = receive(world)
    assert webhooks.deliver(message["Body"], message["ReceiptHandle"], 1) == "delivered"
    (sent,) = world["sent"]
    assert sent["address"] == "93.184.216.34"
    t = sent["headers"]["Objektify-Signature"].split(",")[0].removeprefix("t=")
    assert sent["headers"]["Objektify-Signature"] == webhooks.sign(secret, int(t), sent["body"])
    assert sent["headers"]["Objektify-Event-Id"] == event
    assert json.loads(sent["body"]) == generation("published")
    # A repeated message (SQS is at least once) sends nothing more.
    assert webhooks.deliver(message["Body"], message["ReceiptHandle"], 2) == "delivered"
    assert len(world["sent"]) == 1


@pytest.mark.parametrize(
    "answer",
    [
        webhook_http.PostResult(status=500),
        webhook_http.PostResult(status=503),
        webhook_http.PostResult(status=429),
        webhook_http.PostResult(status=None, problem="timeout"),
        webhook_http.PostResult(status=None, problem="connection_error"),
        webhook_http.PostResult(status=None, problem="tls_error"),
    ],
)
def test_a_failure_worth_retrying_is_hidden_for_its_backoff(
    world: dict[str, Any], answer: webhook_http.PostResult
) -> None:
    user = hooked_user()
    webhooks.enqueue(user, generation("failed"))
    message = receive(world)
    world["answers"].append(answer)
    with pytest.raises(webhooks.DeliverLater):
        webhooks.deliver(message["Body"], message["ReceiptHandle"], 1)
    (record,) = webhooks.hook_state(user)["deliveries"]
    assert (record["status"], record["attempts"]) == ("retrying", 1)
    assert record["last_result"] == str(answer.status or answer.problem)


def test_the_last_try_is_dead_lettered_and_a_4xx_is_not_retried(world: dict[str, Any]) -> None:
    from chalicelib.settings import get_settings

    user = hooked_user()
    webhooks.enqueue(user, generation("published"))
    webhooks.enqueue(user, generation("removed", "01J0000000000000000000000C"))
    last = get_settings().webhook_max_attempts
    world["answers"].extend([webhook_http.PostResult(status=502), webhook_http.PostResult(404)])
    first, second = receive(world), receive(world)
    with pytest.raises(webhooks.DeliverLater):
        webhooks.deliver(first["Body"], first["ReceiptHandle"], last)
    assert webhooks.deliver(second["Body"], second["ReceiptHandle"], 1) == "failed"
    states = {d["event"]: d["status"] for d in webhooks.hook_state(user)["deliveries"]}
    assert states == {"published": "dead_lettered", "removed": "failed"}


def test_a_url_that_now_resolves_privately_is_refused_at_delivery(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = consented_profile("user-3")
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **_: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))
        ],
    )
    webhooks.set_hook(user, "https://receiver.example/hook")
    webhooks.enqueue(user, generation("published"))
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **_: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))
        ],
    )
    message = receive(world)
    assert webhooks.deliver(message["Body"], message["ReceiptHandle"], 1) == "refused"
    assert world["sent"] == []


def test_removing_the_hook_stops_its_deliveries(world: dict[str, Any]) -> None:
    user = hooked_user()
    webhooks.enqueue(user, generation("published"))
    message = receive(world)
    webhooks.remove_all(user)
    assert webhooks.deliver(message["Body"], message["ReceiptHandle"], 1) == "gone"
    assert world["sent"] == []
    assert webhooks.hook_state(user) == {"url": None, "created_at": None, "deliveries": []}


def test_queue_counters_count_repeated_stream_records_once(world: dict[str, Any]) -> None:
    from chalicelib.adapters import clock
    from chalicelib.models.generations import QUEUED, SCANNING, Generation
    from chalicelib.services import queue_position

    now = clock.now()
    ids = [f"01J000000000000000000000{n:02d}" for n in range(3)]
    for gid in ids:
        Generation(
            gid,
            owner_id="u",
            status=QUEUED,
            prompt="p",
            width=512,
            height=512,
            steps=2,
            seed=1,
            terms_version=1,
            terms_sha256="x",
            input_key="i",
            output_key="o",
            created_at=now,
            updated_at=now,
        ).save()
        queue_position.record(gid, None, QUEUED)
    queue_position.record(ids[0], None, QUEUED)  # repeated arrival

    def places() -> list[int | None]:
        queue_position._snapshots.clear()
        found = [queue_position.position_of(Generation.get(g)) for g in ids]
        return [p["position"] if p else None for p in found]

    assert places() == [1, 2, 3]
    Generation(ids[0]).update(actions=[Generation.status.set(SCANNING)])
    queue_position.record(ids[0], QUEUED, SCANNING)
    queue_position.record(ids[0], QUEUED, SCANNING)  # repeated departure
    assert places() == [None, 1, 2]
