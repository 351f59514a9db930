"""What every table shares: region, on-demand billing, timestamps in UTC."""

from __future__ import annotations

from pynamodb import settings as pynamodb_settings
from pynamodb.connection import Connection
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.exceptions import PynamoDBException
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import aws
from chalicelib.once import built_once
from chalicelib.settings import get_settings

BILLING_MODE = PAY_PER_REQUEST_BILLING_MODE

# PynamoDB's connections (each model's, and the transactions' below) read their retry
# configuration from PynamoDB's settings (no model option reaches it): the same botocore retry
# mode and attempts as every other AWS client, instead of PynamoDB's fixed "standard, 3 retries".
pynamodb_settings.default_settings_dict["retry_configuration"] = aws.retries()


def region() -> str:
    return get_settings().region


@built_once
def _connection() -> Connection:
    return Connection(region=region())


def transaction(token: str | None = None) -> TransactWrite:
    """A DynamoDB write transaction: all of its writes happen, or none. With a token, a retry
    of the same transaction (botocore's, after a lost answer) is applied once."""
    return TransactWrite(connection=_connection(), client_request_token=token)


def _cancellation_codes(exc: PynamoDBException) -> set[str]:
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return {reason.code for reason in reasons if reason is not None}


def refused_by_condition(exc: PynamoDBException) -> bool:
    """True when DynamoDB turned a write down because one of its conditions did not hold: a
    real "no" the caller answers. False for throttling, a conflicting transaction, a 5xx or a
    lost connection: those must not read as a refusal, so the caller raises them again (the
    API answers 503 with Retry-After, an event handler has its message delivered again)."""
    return (
        exc.cause_response_code == "ConditionalCheckFailedException"
        or "ConditionalCheckFailed" in _cancellation_codes(exc)
    )


def refused_on(exc: PynamoDBException, position: int) -> bool:
    """True when the transaction's write at `position` (in the order they were added) is one
    whose condition failed."""
    reasons = getattr(exc, "cancellation_reasons", None) or []
    reason = reasons[position] if position < len(reasons) else None
    return reason is not None and reason.code == "ConditionalCheckFailed"


def lost_a_race(exc: PynamoDBException) -> bool:
    """A failed condition, or another transaction on the same item at the same moment: either
    way the state moved under the writer, who may read it again and decide again."""
    return refused_by_condition(exc) or "TransactionConflict" in _cancellation_codes(exc)
