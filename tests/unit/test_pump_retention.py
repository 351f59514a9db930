"""The event pump hands over no stream record older than a DynamoDB stream keeps one (24 h):
the emulator keeps them all, and a restarted pump reads its streams from the start."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.events import changes
from local import pump
from tests.support.in_process_aws import aws, stored_generation

NOW = datetime.datetime(2026, 12, 3, 6, 0, tzinfo=datetime.UTC)


@pytest.fixture
def in_process() -> Iterator[None]:
    with aws():
        yield


def _put(generation_id: str) -> None:
    stored_generation(generation_id, "queued", NOW)


def test_records_older_than_a_day_are_not_handed_over(
    in_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        seen.extend(r["dynamodb"]["Keys"]["generation_id"]["S"] for r in event["Records"])

    _put("g-old")
    # The record as a pump started a day later sees it: older than the stream keeps one.
    monkeypatch.setattr(pump, "STREAM_RETENTION_SECONDS", -1)
    poller = pump.StreamPoller(
        "on_generation_change", changes.STREAM_ARN, 100, handler, threading.Event()
    )
    arn = poller._stream_arn()
    assert poller.poll(arn) == 1  # read, and passed over
    assert seen == []
    monkeypatch.setattr(pump, "STREAM_RETENTION_SECONDS", 24 * 3600)
    _put("g-new")
    assert poller.poll(arn) == 1
    assert seen == ["g-new"]
