"""The generations stream's handler (chalicelib/events/changes.py) against in-process AWS, fed
the stream's own records: a change of status takes or gives back a queue place before its
body is built, the body is the owner's GET /generations/{id}, it is pushed to the owner, a
final state goes to the webhook once, and a change that keeps the status does nothing."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.app import DynamoDBEvent

from chalicelib.api import views
from chalicelib.events import changes
from chalicelib.models.generations import Generation
from chalicelib.services import generation as generations
from chalicelib.services import live, queue_position, webhooks
from local.pump import StreamPoller
from tests.support.in_process_aws import aws, stored_generation

NOW = datetime.datetime(2026, 12, 3, 6, 0, tzinfo=datetime.UTC)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[Any]]]:
    """What the handler pushed and handed to the webhook (each tested on its own elsewhere)."""
    calls: dict[str, list[Any]] = {"push": [], "enqueue": []}
    monkeypatch.setattr(live, "push", lambda owner, message: calls["push"].append((owner, message)))
    monkeypatch.setattr(
        webhooks, "enqueue", lambda owner, body: calls["enqueue"].append((owner, body))
    )
    with aws():
        yield calls


def _put(generation_id: str, status: str) -> None:
    stored_generation(generation_id, status, NOW)


def _status(generation_id: str, status: str) -> None:
    Generation(generation_id).update(actions=[Generation.status.set(status)])


def _records() -> list[Any]:
    """The stream's records so far, as the handler receives them (each once)."""
    events: list[dict[str, Any]] = []
    poller = StreamPoller(
        "on_generation_change",
        changes.STREAM_ARN,
        1000,
        lambda event, context: events.append(event),
        threading.Event(),
    )
    poller.poll(poller._stream_arn())
    return [record for event in events for record in DynamoDBEvent(event, None)]


def _place(generation_id: str) -> int:
    queue_position._snapshots.clear()  # the counters as they are now, not a second ago
    body = views.generation(generations.owner_view(Generation.get(generation_id)))
    return int(body["queue"]["position"])


def test_a_queued_generation_is_pushed_with_its_place(sent: dict[str, list[Any]]) -> None:
    _put("g-1", "queued")
    _put("g-2", "queued")
    records = _records()
    for record in records:
        changes.handle(record)
    # The place was taken before the body was built: the pushed body shows it.
    pushed = [message["generation"] for _, message in sent["push"]]
    assert [(b["id"], b["status"], b["queue"]["position"]) for b in pushed] == [
        ("g-1", "queued", 1),
        ("g-2", "queued", 2),
    ]
    assert all(owner == "user-1" for owner, _ in sent["push"])
    assert {m["type"] for _, m in sent["push"]} == {"generation"}
    # The body is what GET /generations/{id} answers the owner.
    answered = views.generation(generations.owner_view(Generation.get("g-2")))
    assert pushed[1] == answered
    assert sent["enqueue"] == []
    # A record read again (at least once) takes no second place.
    changes.handle(records[0])
    assert Generation.get("g-1").queue_ticket == 1
    assert sent["push"][-1][1]["generation"]["queue"]["position"] == 1


def test_a_final_state_is_pushed_and_handed_to_the_webhook(sent: dict[str, list[Any]]) -> None:
    _put("g-1", "queued")
    _put("g-2", "queued")
    for record in _records():
        changes.handle(record)
    sent["push"].clear()
    _status("g-1", "scanning")
    _status("g-1", "failed")
    for record in _records()[2:]:
        changes.handle(record)
    statuses = [m["generation"]["status"] for _, m in sent["push"]]
    assert statuses == ["scanning", "failed"]
    assert all("queue" not in m["generation"] for _, m in sent["push"])
    assert [(owner, body["status"]) for owner, body in sent["enqueue"]] == [("user-1", "failed")]
    # g-1 left the queue: g-2 moved up.
    assert _place("g-2") == 1


def test_a_change_that_keeps_the_status_does_nothing(sent: dict[str, list[Any]]) -> None:
    _put("g-1", "queued")
    (inserted,) = _records()
    changes.handle(inserted)  # writes the queue ticket: a MODIFY of its own
    sent["push"].clear()
    Generation("g-1").update(actions=[Generation.prompt.set("a lantern, lit")])
    records = _records()[1:]
    assert [r.event_name for r in records] == ["MODIFY", "MODIFY"]
    for record in records:
        changes.handle(record)
    assert sent["push"] == [] and sent["enqueue"] == []


def test_an_erased_generation_leaves_the_queue_and_tells_no_one(
    sent: dict[str, list[Any]],
) -> None:
    _put("g-1", "queued")
    _put("g-2", "queued")
    for record in _records():
        changes.handle(record)
    sent["push"].clear()
    Generation("g-1").delete()
    for record in _records()[-1:]:
        changes.handle(record)
    assert sent["push"] == [] and sent["enqueue"] == []
    assert _place("g-2") == 1
