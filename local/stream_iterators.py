"""DynamoDB stream shard iterators that expire, given to moto's server.

In DynamoDB a shard iterator expires 15 minutes after it is returned. moto keeps every iterator
it ever made (GetShardIterator makes one, and so does each GetRecords, for its
NextShardIterator), so a consumer that polls a stream (the event pump, several times a second)
would grow the emulator's memory, and the state file it persists, without end. Here an iterator
is forgotten 15 minutes after it was made, as DynamoDB's are.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from moto.dynamodbstreams.models import DynamoDBStreamsBackend

LIFETIME_SECONDS = 15 * 60
_made: dict[str, float] = {}


def prune(backend: Any, now: float | None = None) -> None:
    """Forget the backend's iterators made more than LIFETIME_SECONDS ago (`now`: monotonic)."""
    moment = time.monotonic() if now is None else now
    iterators = backend.shard_iterators
    for arn in list(iterators):
        made = _made.setdefault(arn, moment)
        if moment - made > LIFETIME_SECONDS:
            iterators.pop(arn, None)
            _made.pop(arn, None)


def _pruning(call: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(call)
    def pruned(self: Any, *args: Any, **kwargs: Any) -> Any:
        answer = call(self, *args, **kwargs)
        prune(self)
        return answer

    pruned.__expires_iterators__ = True  # type: ignore[attr-defined]
    return pruned


def install() -> None:
    """Expire stream iterators in this process (idempotent)."""
    for name in ("get_shard_iterator", "get_records"):
        call = getattr(DynamoDBStreamsBackend, name)
        if not getattr(call, "__expires_iterators__", False):
            setattr(DynamoDBStreamsBackend, name, _pruning(call))
