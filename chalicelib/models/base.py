"""What every table shares: region, on-demand billing, timestamps in UTC."""

from __future__ import annotations

from typing import Any

import botocore.loaders
import botocore.session
import pynamodb.connection.base as pynamodb_connection
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

# Each PynamoDB connection (one per model) makes its own botocore session, and a new session
# reads botocore's descriptions of DynamoDB and of the endpoints from JSON again: about 80 ms
# for each table a process first touches (a cold start touching four paid a third of a second).
# The sessions share one loader, so the descriptions are read once per process.
_LOADER = botocore.loaders.create_loader()


def _session() -> botocore.session.Session:
    session = botocore.session.get_session()
    session.register_component("data_loader", _LOADER)
    return session


pynamodb_connection.get_session = _session  # type: ignore[attr-defined]  # Connection.session calls it


def region() -> str:
    return get_settings().region


@built_once
def _connection() -> Connection:
    return Connection(region=region())


class Transaction(TransactWrite):
    """A DynamoDB write transaction that can say which of its writes a refusal was about.

    DynamoDB answers a cancelled transaction with one reason per write, in the order they were
    sent; PynamoDB sends condition checks, then deletes, then puts, then updates, whatever
    order the code added them in. This keeps the same grouping to find a write's reason."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sent: dict[str, list[Any]] = {"check": [], "delete": [], "put": [], "update": []}

    def condition_check(
        self, model_cls: Any, hash_key: Any, range_key: Any = None, condition: Any = None
    ) -> None:
        self._sent["check"].append((model_cls, hash_key, range_key))
        super().condition_check(model_cls, hash_key, range_key, condition=condition)

    def delete(self, model: Any, condition: Any = None, **kwargs: Any) -> None:
        self._sent["delete"].append(model)
        super().delete(model, condition=condition, **kwargs)

    def save(self, model: Any, condition: Any = None, **kwargs: Any) -> None:  # type: ignore[override]
        self._sent["put"].append(model)
        super().save(model, condition=condition, **kwargs)

    def update(self, model: Any, actions: Any, condition: Any = None, **kwargs: Any) -> None:  # type: ignore[override]
        self._sent["update"].append(model)
        super().update(model, actions, condition=condition, **kwargs)

    def refused(self, exc: PynamoDBException, write: Any) -> bool:
        """True when the condition of `write` (a model this transaction wrote, or the
        `(model class, hash key, range key)` of a condition check) did not hold."""
        order = [
            *self._sent["check"],
            *self._sent["delete"],
            *self._sent["put"],
            *self._sent["update"],
        ]
        matches = [n for n, sent in enumerate(order) if sent is write or sent == write]
        return bool(matches) and _refused_at(exc, matches[0])


def transaction(token: str | None = None) -> Transaction:
    """A DynamoDB write transaction: all of its writes happen, or none. With a token, a retry
    of the same transaction (botocore's, after a lost answer) is applied once."""
    return Transaction(connection=_connection(), client_request_token=token)


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


def _refused_at(exc: PynamoDBException, position: int) -> bool:
    """True when the cancelled transaction's write at `position` (as sent) failed its
    condition."""
    reasons = getattr(exc, "cancellation_reasons", None) or []
    reason = reasons[position] if position < len(reasons) else None
    return reason is not None and reason.code == "ConditionalCheckFailed"


def lost_a_race(exc: PynamoDBException) -> bool:
    """A failed condition, or another transaction on the same item at the same moment: either
    way the state moved under the writer, who may read it again and decide again."""
    return refused_by_condition(exc) or "TransactionConflict" in _cancellation_codes(exc)
