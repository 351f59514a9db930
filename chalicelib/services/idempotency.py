"""Idempotency-Keys: one key names one generation for its caller.

The key is claimed by a record (`IdempotencyRecord`) written in the same transaction as the
generation and its quota unit, so honouring a key costs no request of its own. A retry with the
same key and body finds its generation through the keyed payload (`submission`) before it
writes anything; the same key with another body is refused. Records expire after 24 hours.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from chalicelib.models.idempotency import IdempotencyRecord
from chalicelib.services.errors import InvalidRequest

MAX_KEY_CHARS = 128
RECORD_SECONDS = 24 * 3600


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise InvalidRequest(
            details={"Idempotency-Key": f"1 to {MAX_KEY_CHARS} printable characters"}
        )


def claim(
    user_id: str, key: str, asked: str, generation_id: str, now: datetime
) -> IdempotencyRecord:
    """The record that claims `key` for the generation `asked` (the request as sent) makes."""
    return IdempotencyRecord(
        _record_id(user_id, key),
        request_sha256=hashlib.sha256(asked.encode()).hexdigest(),
        generation_id=generation_id,
        expiration=now + timedelta(seconds=RECORD_SECONDS),
    )


def free(now: datetime) -> Any:
    """The condition a claim is written on: no record, or only an expired one."""
    return IdempotencyRecord.id.does_not_exist() | (IdempotencyRecord.expiration < now)


def holder(record: IdempotencyRecord) -> str | None:
    """The generation a refused claim's key already names (None if that record has gone since);
    refuses a key that was first used with another body."""
    try:
        held = IdempotencyRecord.get(record.id, consistent_read=True)
    except IdempotencyRecord.DoesNotExist:
        return None
    if held.request_sha256 != record.request_sha256:
        raise InvalidRequest(
            "This Idempotency-Key was already used with a different body.",
            details={"Idempotency-Key": "already used with a different body"},
        )
    return str(held.generation_id)


def _record_id(user_id: str, key: str) -> str:
    return hashlib.sha256(f"{user_id}\n{key}".encode()).hexdigest()
