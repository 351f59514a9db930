"""The event pump's DynamoDB stream source (local/pump.py, StreamPoller) against moto in this
process: the generations table's stream reaches the handler as Lambda's stream event, in order,
and a batch that failed is read again as Lambda reads it."""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.app import DynamoDBEvent

from chalicelib.events import changes
from chalicelib.models.generations import Generation
from local.pump import StreamPoller, stream_event, table_of
from tests.support.in_process_aws import aws, stored_generation

NOW = datetime.datetime(2026, 12, 3, 6, 0, tzinfo=datetime.UTC)


@pytest.fixture
def in_process() -> Iterator[None]:
    with aws():
        yield


def _put(generation_id: str, status: str) -> None:
    stored_generation(generation_id, status, NOW)


def _poller(handler: Any, max_retries: int = 3) -> tuple[StreamPoller, str]:
    poller = StreamPoller(
        "on_generation_change",
        changes.STREAM_ARN,
        100,
        handler,
        threading.Event(),
        max_retries=max_retries,
    )
    return poller, poller._stream_arn()


def test_the_stream_is_found_by_the_table_in_the_arn() -> None:
    assert table_of(changes.STREAM_ARN) == Generation.Meta.table_name
    assert (
        table_of("arn:aws:dynamodb:eu-west-1:1:table/t-1/stream/2026-12-03T00:00:00.000") == "t-1"
    )


def test_records_reach_the_handler_in_order_as_lambda_events(in_process: None) -> None:
    seen: list[dict[str, Any]] = []
    poller, arn = _poller(lambda event, context: seen.append(event))
    _put("g-1", "queued")
    Generation("g-1").update(actions=[Generation.status.set("scanning")])
    Generation("g-1").delete()
    assert poller.poll(arn) == 3
    records = [r for event in seen for r in event["Records"]]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert [r["eventSourceARN"] for r in records] == [arn] * 3
    assert records[0]["dynamodb"]["Keys"] == {"generation_id": {"S": "g-1"}}
    assert records[1]["dynamodb"]["OldImage"]["status"] == {"S": "queued"}
    assert records[1]["dynamodb"]["NewImage"]["status"] == {"S": "scanning"}
    assert "NewImage" not in records[2]["dynamodb"]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(numbers)
    # Chalice reads the event as it reads Lambda's.
    parsed = list(DynamoDBEvent(seen[0], None))
    assert parsed[0].table_name == Generation.Meta.table_name
    assert parsed[1].new_image["status"] == {"S": "scanning"}
    # Nothing new: nothing handed over again.
    assert poller.poll(arn) == 0
    _put("g-2", "queued")
    assert poller.poll(arn) == 1
    assert seen[-1]["Records"][0]["dynamodb"]["Keys"] == {"generation_id": {"S": "g-2"}}


def test_a_reported_failure_is_read_again_from_that_record(in_process: None) -> None:
    calls: list[list[str]] = []
    fail_once = {"g-2"}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        ids = [r["dynamodb"]["Keys"]["generation_id"]["S"] for r in event["Records"]]
        calls.append(ids)
        failed = [
            {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
            for r in event["Records"]
            if r["dynamodb"]["Keys"]["generation_id"]["S"] in fail_once
        ]
        fail_once.clear()
        return {"batchItemFailures": failed}

    poller, arn = _poller(handler)
    for n in (1, 2, 3):
        _put(f"g-{n}", "queued")
    poller.poll(arn)
    assert calls == [["g-1", "g-2", "g-3"], ["g-2", "g-3"]]
    assert poller.poll(arn) == 0


def test_a_failed_invocation_is_halved_retried_and_then_given_up(
    in_process: None, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        ids = [r["dynamodb"]["Keys"]["generation_id"]["S"] for r in event["Records"]]
        calls.append(ids)
        if "g-2" in ids:
            raise RuntimeError("a bad record")

    poller, arn = _poller(handler, max_retries=2)
    for n in (1, 2, 3, 4):
        _put(f"g-{n}", "queued")
    poller.poll(arn)
    # The batch, then its halves: the good half is handled, the bad one halved again until the
    # bad record is alone, retried, and given up; the stream goes on past it.
    assert calls[0] == ["g-1", "g-2", "g-3", "g-4"]
    assert ["g-3", "g-4"] in calls and ["g-1"] in calls
    assert calls.count(["g-2"]) >= 1
    assert "gave up on records" in capsys.readouterr().out
    _put("g-5", "queued")
    poller.poll(arn)
    assert calls[-1] == ["g-5"]


def test_the_handler_reports_failures_and_skips_the_failed_items_later_records(
    in_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    handled: list[tuple[str, str | None]] = []

    def handle(record: Any) -> None:
        key = record.keys["generation_id"]["S"]
        status = (record.new_image or {}).get("status", {}).get("S")
        if (key, status) == ("g-1", "queued"):
            raise RuntimeError("throttled")
        handled.append((key, status))

    monkeypatch.setattr(changes, "handle", handle)
    events: list[dict[str, Any]] = []
    poller, arn = _poller(lambda event, context: events.append(event))
    _put("g-1", "queued")
    _put("g-2", "queued")
    Generation("g-1").update(actions=[Generation.status.set("scanning")])
    poller.poll(arn)
    answer = changes.process(DynamoDBEvent(events[0], None))
    numbers = [r["dynamodb"]["SequenceNumber"] for r in events[0]["Records"]]
    # g-1's failure, and its later change (not handled before it): read again from there.
    assert answer == {
        "batchItemFailures": [{"itemIdentifier": numbers[0]}, {"itemIdentifier": numbers[2]}]
    }
    assert handled == [("g-2", "queued")]


def test_stream_event_carries_epoch_seconds() -> None:
    record = {
        "eventID": "e1",
        "eventName": "INSERT",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime.datetime(2026, 12, 3, tzinfo=datetime.UTC),
            "Keys": {"generation_id": {"S": "g"}},
            "SequenceNumber": "1",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    event = stream_event([record], "arn:aws:dynamodb:us-east-1:1:table/t/stream/x")
    assert event["Records"][0]["dynamodb"]["ApproximateCreationDateTime"] == 1796256000.0
    assert event["Records"][0]["eventSource"] == "aws:dynamodb"


def test_duplicates_hand_each_batch_over_twice_in_order(
    in_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OBJEKTIFY_LOCAL_PUMP_DUPLICATES", "1")
    calls: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        calls.append([r["dynamodb"]["Keys"]["generation_id"]["S"] for r in event["Records"]])

    poller, arn = _poller(handler)
    _put("g-1", "queued")
    _put("g-2", "queued")
    poller.poll(arn)
    assert calls == [["g-1", "g-2"], ["g-1", "g-2"]]


def test_the_emulators_stream_iterators_expire_as_dynamodbs_do(in_process: None) -> None:
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    from local import stream_iterators

    stream_iterators.install()
    poller, arn = _poller(lambda event, context: None)
    _put("g-1", "queued")
    for _ in range(3):
        poller.poll(arn)
    backend = dynamodbstreams_backends["123456789012"]["us-east-1"]
    made = len(backend.shard_iterators)
    assert made >= 3
    stream_iterators.prune(backend, time.monotonic() + stream_iterators.LIFETIME_SECONDS - 60)
    assert len(backend.shard_iterators) == made  # younger than 15 minutes: kept
    stream_iterators.prune(backend, time.monotonic() + stream_iterators.LIFETIME_SECONDS + 60)
    assert backend.shard_iterators == {}
    # The pump asks for a new iterator each read, so it goes on as before.
    _put("g-2", "queued")
    assert poller.poll(arn) == 1
