"""What every table shares: region, on-demand billing, timestamps in UTC."""

from __future__ import annotations

from functools import lru_cache

from pynamodb import settings as pynamodb_settings
from pynamodb.connection import Connection
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.exceptions import PynamoDBException
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import aws
from chalicelib.settings import get_settings

BILLING_MODE = PAY_PER_REQUEST_BILLING_MODE

# A model's table connection reads its retry configuration from PynamoDB's settings (no model
# option reaches it): the same botocore retry mode and attempts as every other AWS client,
# instead of PynamoDB's own fixed "standard, 3 retries".
pynamodb_settings.default_settings_dict["retry_configuration"] = aws.retries()


def region() -> str:
    return get_settings().region


@lru_cache(maxsize=1)
def _connection() -> Connection:
    return Connection(region=region(), retry_configuration=aws.retries())


def transaction(token: str | None = None) -> TransactWrite:
    """A DynamoDB write transaction: all of its writes happen, or none. With a token, a retry
    of the same transaction (botocore's, after a lost answer) is applied once."""
    return TransactWrite(connection=_connection(), client_request_token=token)


def refused_by_condition(exc: PynamoDBException) -> bool:
    """True when DynamoDB turned a write down because one of its conditions did not hold: a
    real "no" the caller answers. False for throttling, a conflicting transaction, a 5xx or a
    lost connection: those must not read as a refusal, so the caller raises them again (the
    API answers 503 with Retry-After, an event handler has its message delivered again)."""
    if exc.cause_response_code == "ConditionalCheckFailedException":
        return True
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return any(getattr(reason, "code", None) == "ConditionalCheckFailed" for reason in reasons)


def lost_a_race(exc: PynamoDBException) -> bool:
    """A failed condition, or another transaction on the same item at the same moment: either
    way the state moved under the writer, who may read it again and decide again."""
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return refused_by_condition(exc) or any(
        getattr(reason, "code", None) == "TransactionConflict" for reason in reasons
    )
