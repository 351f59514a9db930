"""A replayed Idempotency-Key never calls the model again for free: once its idempotency record
has expired, the same key and body find the generation their keyed payload names and answer
it as it stands; only one the model never took is started again, once, by whoever claims it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient

from chalicelib.models.generations import Generation
from chalicelib.models.idempotency import IdempotencyRecord
from chalicelib.models.quota import QuotaSlot
from chalicelib.services import submission, terms
from tests.support.in_process_aws import aws, consented_profile


@contextmanager
def model_calls() -> Iterator[list[str]]:
    calls: list[str] = []
    original = BaseClient._make_api_call

    def counting(self: BaseClient, operation: str, params: Any) -> Any:
        if operation == "InvokeEndpointAsync":
            calls.append(params["InferenceId"])
        return original(self, operation, params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def _admitted(user_id: str) -> submission.Admission:
    terms.publish_terms("Terms for the replay test.")
    return submission.admit(consented_profile(user_id))


def _expire_idempotency_records() -> None:
    for record in IdempotencyRecord.scan():
        record.delete()


REQUEST = submission.GenerationRequest("a lantern in the fog", None, 512, 512, 4, 7)


def test_a_key_replayed_after_its_record_expired_answers_without_a_model_call() -> None:
    with aws(), model_calls() as calls:
        admission = _admitted("replayer")
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
        original_start = submission.start
        submission.start = lambda generation_id, input_key: False  # type: ignore[assignment]
        try:
            first = submission.submit(admission, REQUEST, "key-2")  # the model call "failed"
        finally:
            submission.start = original_start  # type: ignore[assignment]
        assert Generation.get(first.id).invoke_pending
        with model_calls() as calls:
            _expire_idempotency_records()
            submission.submit(admission, REQUEST, "key-2")
            _expire_idempotency_records()
            submission.submit(admission, REQUEST, "key-2")
        assert calls == [first.id]  # started by the first replay only
        assert not Generation.get(first.id, consistent_read=True).invoke_pending
