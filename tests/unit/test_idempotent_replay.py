"""A replayed Idempotency-Key never calls the model again for free: the same key and body find
the generation their keyed payload names and answer it as it stands (also once the key's record
has expired); only one the model never took, and whose own submit is over, is started again,
once, by whoever claims it. The key costs the submit no AWS request of its own."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.client import BaseClient

from chalicelib.adapters import ids
from chalicelib.adapters.aws import client
from chalicelib.models.generations import Generation
from chalicelib.models.idempotency import IdempotencyRecord
from chalicelib.models.quota import QuotaSlot
from chalicelib.services import submission, terms
from chalicelib.services.errors import InvalidRequest, RateLimited
from chalicelib.settings import get_settings
from tests.support.in_process_aws import aws, consented_profile


@contextmanager
def aws_calls() -> Iterator[list[tuple[str, Any]]]:
    calls: list[tuple[str, Any]] = []
    original = BaseClient._make_api_call

    def counting(self: BaseClient, operation: str, params: Any) -> Any:
        calls.append((operation, params))
        return original(self, operation, params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


@contextmanager
def model_calls() -> Iterator[list[str]]:
    with aws_calls() as calls:
        started: list[str] = []
        yield started
        started.extend(p["InferenceId"] for op, p in calls if op == "InvokeEndpointAsync")


@contextmanager
def model_call_fails() -> Iterator[None]:
    """The submit's call to the model fails: the generation stays pending, never started."""
    original_start = submission.start
    submission.start = lambda generation_id, input_key: False  # type: ignore[assignment]
    try:
        yield
    finally:
        submission.start = original_start  # type: ignore[assignment]


class InvocationOver:
    """The Lambda context of a submit with no time left: its generation is fair game at once."""

    def get_remaining_time_in_millis(self) -> int:
        return 0


def _admitted(user_id: str) -> submission.Admission:
    terms.publish_terms("Terms for the replay test.")
    return submission.admit(consented_profile(user_id))


def _expire_idempotency_records() -> None:
    for record in IdempotencyRecord.scan():
        record.delete()


REQUEST = submission.GenerationRequest("a lantern in the fog", None, 512, 512, 4, 7)


def test_a_key_replayed_after_its_record_expired_answers_without_a_model_call() -> None:
    with aws():
        admission = _admitted("replayer")
        with model_calls() as calls:
            first = submission.submit(admission, REQUEST, "key-1")
            for _ in range(5):
                _expire_idempotency_records()
                again = submission.submit(admission, REQUEST, "key-1")
                assert again.id == first.id
        assert calls == [first.id]  # one model call, not six
        assert [s.generation_id for s in QuotaSlot.query("replayer")] == [first.id]


def test_a_replay_starts_once_a_generation_the_model_never_took() -> None:
    with aws():
        admission = _admitted("restarter")
        with model_call_fails():  # and the submit's invocation ended
            first = submission.submit(admission, REQUEST, "key-2", InvocationOver())
        assert Generation.get(first.id).invoke_pending
        with model_calls() as calls:
            submission.submit(admission, REQUEST, "key-2")
            _expire_idempotency_records()
            submission.submit(admission, REQUEST, "key-2")
        assert calls == [first.id]  # started by the first replay only
        assert not Generation.get(first.id, consistent_read=True).invoke_pending
        assert [s.generation_id for s in QuotaSlot.query("restarter")] == [first.id]


def test_a_retry_while_the_first_submit_may_still_start_it_does_not_call_the_model() -> None:
    with aws():
        admission = _admitted("impatient")
        with model_call_fails():
            first = submission.submit(admission, REQUEST, "key-3")  # still under way, as seen
        with model_calls() as calls:
            again = submission.submit(admission, REQUEST, "key-3")
        assert again.id == first.id and again.status == "queued"
        assert calls == []  # the sweeper starts it if the first submit never does
        assert Generation.get(first.id, consistent_read=True).invoke_pending


def test_a_second_recording_of_one_generation_neither_starts_it_nor_takes_quota() -> None:
    # Two submits of the same key and body at once: both find the payload unrecorded and both
    # try to record it; the one whose transaction loses answers without calling the model.
    with aws():
        admission = _admitted("racer")
        generation_id = ids.new_id()
        new = submission.Unrecorded(admission, REQUEST, [generation_id], ["inputs/race.json"], 30.0)
        with model_calls() as calls:
            winner = submission._record_and_start(new)
            loser = submission._record_and_start(new)
        assert winner.id == loser.id == generation_id
        assert calls == [generation_id]
        assert [s.generation_id for s in QuotaSlot.query("racer")] == [generation_id]


def test_a_keyed_batch_replayed_answers_the_same_batch_and_takes_no_more_quota() -> None:
    with aws():
        admission = _admitted("batcher")
        batch = dataclasses.replace(REQUEST, n=3, seed=None)
        with model_calls() as calls:
            first = submission.submit(admission, batch, "key-batch")
            again = submission.submit(admission, batch, "key-batch")
        assert first.batch is not None and len(first.batch) == 3
        assert again.id == first.id and again.batch == first.batch
        assert calls == first.batch  # each started once
        seeds = [int(Generation.get(g).seed) for g in first.batch]
        assert seeds == [first.seed, first.seed + 1, first.seed + 2]
        taken = sorted(s.generation_id for s in QuotaSlot.query("batcher"))
        assert taken == sorted(first.batch)


def test_a_batch_that_does_not_fit_the_quota_makes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OBJEKTIFY_QUOTA_LIMIT", "4")
    get_settings.cache_clear()
    with aws():
        admission = _admitted("greedy")
        with model_calls():
            submission.submit(admission, REQUEST, None)
            with pytest.raises(RateLimited) as refused:
                submission.submit(admission, dataclasses.replace(REQUEST, n=4), None)
        assert refused.value.details["available"] == 3
        assert len(list(QuotaSlot.query("greedy"))) == 1
        assert len(list(Generation.scan())) == 1
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_key_used_with_another_body_is_refused_and_leaves_nothing() -> None:
    with aws():
        admission = _admitted("reuser")
        first = submission.submit(admission, REQUEST, "key-4")
        other = dataclasses.replace(REQUEST, prompt="a kite in the rain")
        with pytest.raises(InvalidRequest) as refused:
            submission.submit(admission, other, "key-4")
        assert "Idempotency-Key" in refused.value.details
        bucket = get_settings().inputs_bucket
        payloads = client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])
        assert len(payloads) == 1  # the first request's; the refused one's is gone
        assert [g.generation_id for g in Generation.scan()] == [first.id]


def test_an_admitted_keyed_submit_makes_four_aws_requests() -> None:
    # With admission's one read of the profile, five: the Idempotency-Key costs none.
    with aws():
        admission = _admitted("counter")
        with aws_calls() as calls:
            submission.submit(admission, REQUEST, "key-5")
        operations = [operation for operation, _ in calls]
    assert operations == [
        "PutObject",  # the payload, written once
        "TransactWriteItems",  # the generation, its quota unit and the key's claim
        "InvokeEndpointAsync",
        "UpdateItem",  # the endpoint took it
    ]
