"""DynamoDB's write isolation, given to moto's server.

In DynamoDB a conditional write, and a transaction as a whole, is atomic and isolated: no other
write comes between its condition and its change. moto's backend checks a condition and then
writes in two steps, and its transactions back up each table they touch and put the backup
back when one of their writes is refused; with a thread per request (as the local emulator
serves them), two racing writes can both pass one condition, and a refused transaction's
restore silently undoes writes that other requests made meanwhile. One lock around every
DynamoDB write makes them serializable, as DynamoDB's are. Reads take no lock: in DynamoDB
they see committed writes, which is what they see here too.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_lock = threading.RLock()


def _serialized(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return write(*args, **kwargs)

    locked.__wrapped_by_isolation__ = True  # type: ignore[attr-defined]
    return locked


def install() -> None:
    """Serialize moto's DynamoDB writes in this process (idempotent)."""
    for name in WRITES:
        write = getattr(DynamoDBBackend, name)
        if not getattr(write, "__wrapped_by_isolation__", False):
            setattr(DynamoDBBackend, name, _serialized(write))
