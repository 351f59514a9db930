"""A failed condition is a real "no"; throttling or a conflict must never read as one."""

from __future__ import annotations

from botocore.exceptions import ClientError
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from chalicelib.adapters.aws import is_transient
from chalicelib.models.base import lost_a_race, refused_by_condition


def cancelled(*codes: str | None) -> TransactWriteError:
    reasons = [CancellationReason(code=c) if c else None for c in codes]
    cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
        "TransactWriteItems",
        cancellation_reasons=reasons,
    )
    return TransactWriteError("Failed to write transaction items", cause=cause)


def failed_with(code: str, status: int = 400) -> TransactWriteError:
    cause = ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "TransactWriteItems",
    )
    return TransactWriteError("Failed to write transaction items", cause=cause)


def test_a_failed_condition_is_a_refusal_and_not_transient() -> None:
    exc = cancelled(None, "ConditionalCheckFailed")
    assert refused_by_condition(exc)
    assert lost_a_race(exc)
    assert not is_transient(exc)


def test_throttling_is_transient_and_not_a_refusal() -> None:
    for exc in (
        failed_with("ThrottlingException"),
        failed_with("InternalServerError", 500),
        cancelled("ThrottlingError", None),
    ):
        assert not refused_by_condition(exc)
        assert not lost_a_race(exc)
        assert is_transient(exc)


def test_a_conflicting_transaction_is_a_lost_race_to_look_at_again() -> None:
    exc = cancelled("TransactionConflict", None)
    assert not refused_by_condition(exc)
    assert lost_a_race(exc)
    assert is_transient(exc)


def test_a_malformed_write_is_neither() -> None:
    exc = failed_with("ValidationException")
    assert not refused_by_condition(exc)
    assert not lost_a_race(exc)
    assert not is_transient(exc)
