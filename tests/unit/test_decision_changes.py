"""The statements stream's handler (chalicelib/events/decisions.py) against in-process AWS, fed
the stream's own records: a moderator's removal, the appeal filed and its outcome are each pushed
to the image's creator with exactly the body GET /me/decisions shows; the moment the appeal is
taken up, a change the user cannot see and an erasure's anonymising push nothing; one record
that fails is reported without losing the others."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.app import DynamoDBEvent

from chalicelib.api import views
from chalicelib.events import decisions
from chalicelib.models.statements import Statement
from chalicelib.services import appeals, erasure, live, moderation, statements
from local.pump import StreamPoller
from tests.support.in_process_aws import aws, consented_profile, painted, scanned

CREATOR, FIRST, SECOND = "creator-1", "moderator-1", "moderator-2"


class Stream:
    """The statements stream as the mapping reads it: each record once, in order."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.poller = StreamPoller(
            "on_decision_change",
            decisions.STREAM_ARN,
            1000,
            lambda event, context: self.events.append(event),
            threading.Event(),
        )
        self.arn = self.poller._stream_arn()

    def records(self) -> list[Any]:
        self.events.clear()
        self.poller.poll(self.arn)
        return [record for event in self.events for record in DynamoDBEvent(event, None)]

    def handle(self) -> None:
        for record in self.records():
            decisions.handle(record)


@pytest.fixture
def pushed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """What the handler pushed, to whom (live.push is tested on its own)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(live, "push", lambda owner, message: calls.append((owner, message)))
    with aws():
        yield calls


def as_listed(user_id: str) -> dict[str, dict[str, Any]]:
    """GET /me/decisions' items, by id."""
    items, _ = statements.about_user(user_id, 100, None)
    return {s.statement_id: views.plain(statements.shown(s)) for s in items}


def removed_image() -> tuple[str, str]:
    """(image id, the removal's statement id): a published image a moderator removed."""
    consented_profile(CREATOR)
    image_id = painted(CREATOR)
    scanned(image_id, "publish")
    decided = moderation.decide(FIRST, image_id, "remove", "Graphic violence.", "violent")
    assert decided.status == "removed"
    removal = statements.removal_of(moderation._load(image_id))
    assert removal is not None
    return image_id, removal


def test_a_removal_and_its_appeal_reach_the_creator_as_me_decisions_shows_them(
    pushed: list[tuple[str, dict[str, Any]]],
) -> None:
    stream = Stream()
    image_id, removal = removed_image()

    stream.handle()
    assert [(to, m["type"]) for to, m in pushed] == [(CREATOR, "decision")]
    (told,) = [m["decision"] for _, m in pushed]
    assert told == as_listed(CREATOR)[removal]
    assert told["decision"] == "content_removed" and told["image_id"] == image_id
    assert told["appeal"] is None and "decided_by" not in told

    pushed.clear()
    appeals.file(CREATOR, removal, "It is a painting of a storm.")
    stream.handle()
    assert [m["decision"] for _, m in pushed] == [as_listed(CREATOR)[removal]]
    assert pushed[0][1]["decision"]["appeal"]["status"] == "open"

    pushed.clear()
    outcome = appeals.decide(SECOND, removal, "reverse", "A storm, not gore.")
    stream.handle()
    listed = as_listed(CREATOR)
    bodies = {m["decision"]["id"]: m["decision"] for _, m in pushed}
    # The outcome's own statement, and the appealed one now decided; never "deciding".
    assert bodies == {removal: listed[removal], outcome.statement_id: listed[outcome.statement_id]}
    assert len(pushed) == 2 and {to for to, _ in pushed} == {CREATOR}
    assert bodies[removal]["appeal"]["status"] == "decided"
    assert bodies[removal]["appeal"]["outcome"] == "reversed"
    assert bodies[outcome.statement_id]["decision"] == "decision_reversed"


def test_a_change_the_user_cannot_see_and_an_erasure_push_nothing(
    pushed: list[tuple[str, dict[str, Any]]],
) -> None:
    stream = Stream()
    _, removal = removed_image()
    stream.handle()
    pushed.clear()

    Statement(removal).update(actions=[Statement.strike.set(False)])  # not in the user's view
    stream.handle()
    assert pushed == []

    erasure.anonymise_statements(CREATOR)
    records = stream.records()
    assert records, "the anonymising wrote to the stream"
    for record in records:
        decisions.handle(record)
    assert pushed == []


def test_a_record_that_fails_is_reported_and_the_others_are_pushed(
    pushed: list[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = Stream()
    consented_profile("other-1")
    removed_image()
    statements_made = [
        statements.about_account(
            "other-1", "account_suspended", decided_by=FIRST, explanation="Spam.", facts="Spam."
        )
    ]
    for statement in statements_made:
        statement.save()
    records = stream.records()
    failing = next(r for r in records if r.new_image["user_id"]["S"] == CREATOR)
    calls: list[str] = []

    def push(owner: str, message: dict[str, Any]) -> None:
        calls.append(owner)
        if owner == CREATOR:
            raise ConnectionError("the connections table did not answer")

    monkeypatch.setattr(live, "push", push)
    event = {"Records": [r.to_dict() for r in records]}

    answer = decisions.process(DynamoDBEvent(event, None))

    assert answer == {"batchItemFailures": [{"itemIdentifier": failing.sequence_number}]}
    assert "other-1" in calls
