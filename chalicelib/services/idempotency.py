"""Idempotent submits with Powertools Idempotency (DynamoDB persistence).

The key is the caller plus their `Idempotency-Key`; the request body is validated, so the same
key with another body is refused instead of silently answering for the first one. Powertools
writes the record twice (in progress, then the answer) and expires it by TTL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, cast

from chalicelib.once import built_once
from chalicelib.services.errors import Conflict, InvalidRequest
from chalicelib.settings import get_settings

MAX_KEY_CHARS = 128
RECORD_SECONDS = 24 * 3600


@built_once
def _config() -> Any:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="[user_id, key]",
        payload_validation_jmespath="request",
        expires_after_seconds=RECORD_SECONDS,
        use_local_cache=False,
    )


@built_once
def _runner() -> Callable[..., dict[str, Any]]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        idempotent_function,
    )

    from chalicelib.adapters.aws import client

    persistence = DynamoDBPersistenceLayer(
        table_name=get_settings().idempotency_table, boto3_client=client("dynamodb")
    )

    def run(call: dict[str, Any], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return action()

    decorate = idempotent_function(
        data_keyword_argument="call", persistence_store=persistence, config=_config()
    )
    return cast(Callable[..., dict[str, Any]], decorate(run))


def once(
    user_id: str,
    key: str,
    request: Any,
    action: Callable[[], dict[str, Any]],
    lambda_context: Any = None,
) -> dict[str, Any]:
    """Run `action` once per (user, key, request); later calls get the first answer.

    With the Lambda context, a record left "in progress" by an invocation that timed out
    expires with that invocation instead of blocking retries for the whole record lifetime.
    """
    if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise InvalidRequest(
            details={"Idempotency-Key": f"1 to {MAX_KEY_CHARS} printable characters"}
        )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
        _config().register_lambda_context(lambda_context)
    call = {"user_id": user_id, "key": key, "request": dataclasses.asdict(request)}
    try:
        return _runner()(call=call, action=action)
    except IdempotencyValidationError as exc:
        raise InvalidRequest(
            "This Idempotency-Key was already used with a different body.",
            details={"Idempotency-Key": "already used with a different body"},
        ) from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise Conflict("A request with this Idempotency-Key is still in progress.") from exc
