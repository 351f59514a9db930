"""What every table shares: region, on-demand billing, timestamps in UTC."""

from __future__ import annotations

from functools import lru_cache

from pynamodb.connection import Connection
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.transactions import TransactWrite

from chalicelib.settings import get_settings

BILLING_MODE = PAY_PER_REQUEST_BILLING_MODE


def region() -> str:
    return get_settings().region


@lru_cache(maxsize=1)
def _connection() -> Connection:
    return Connection(region=region())


def transaction(token: str | None = None) -> TransactWrite:
    """A DynamoDB write transaction: all of its writes happen, or none. With a token, a retry
    of the same transaction (botocore's, after a lost answer) is applied once."""
    return TransactWrite(connection=_connection(), client_request_token=token)
