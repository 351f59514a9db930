"""The rolling-window generation quota, taken as slot items (`models/quota.py`).

A submit claims one slot in the transaction that writes its generation. Its first guess is a
random slot, with no read at all: while a user is under the quota that guess almost always
holds, so the common submit costs no more AWS calls than the generation write itself. Only a
guess that lost (the slot was in use, or another submit took it that instant) reads the user's
slots, and then the submit tries the free ones in random order. A submit is refused only when a
fresh read shows every slot in use, so under any race exactly `limit` submits get through in a
window, and the refusal says when the oldest unit frees up.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock
from chalicelib.models.quota import QuotaSlot
from chalicelib.services.errors import RateLimited
from chalicelib.settings import get_settings


@dataclass(frozen=True)
class Window:
    """The rule: at most `limit` units within any `seconds`, seen at `now_ms`."""

    limit: int
    seconds: int
    now_ms: float
    what: str = "images"  # what is counted, for the refusal's message

    @classmethod
    def current(cls) -> Window:
        settings = get_settings()
        return cls(settings.quota_limit, settings.quota_window_seconds, clock.epoch() * 1000)

    @classmethod
    def for_notices(cls) -> Window:
        """The notices one network address may send (the same slots, another owner key)."""
        settings = get_settings()
        return cls(
            settings.notice_limit, settings.notice_window_seconds, clock.epoch() * 1000, "notices"
        )

    def is_free(self, taken_at: float | None) -> bool:
        return taken_at is None or taken_at <= self.now_ms - self.seconds * 1000

    def free_slots(self, taken: dict[int, float]) -> list[int]:
        return [n for n in range(self.limit) if self.is_free(taken.get(n))]

    def retry_after(self, taken: dict[int, float], needed: int = 1) -> int:
        """Whole seconds until enough units in use leave the window for `needed` free ones
        (the oldest first; at least 1)."""
        in_use = sorted(t for n, t in taken.items() if n < self.limit and not self.is_free(t))
        if not in_use:
            return 1
        short = needed - len(self.free_slots(taken))
        wait_ms = in_use[min(max(short, 1), len(in_use)) - 1] + self.seconds * 1000 - self.now_ms
        # Never past one window, even if another clock wrote a time slightly ahead of ours.
        return min(self.seconds, max(1, math.ceil(wait_ms / 1000)))

    def refusal(self, taken: dict[int, float], needed: int = 1) -> RateLimited:
        details = {"limit": self.limit, "window_seconds": self.seconds}
        if needed > 1:
            details |= {"requested": needed, "available": len(self.free_slots(taken))}
        return RateLimited(
            f"At most {self.limit} {self.what} per {self.seconds // 60} minutes.",
            details=details,
            retry_after=self.retry_after(taken, needed),
        )


def slots_in_use(user_id: str) -> dict[int, float]:
    """Each slot the user has ever taken, with when (a consistent read)."""
    return {
        int(slot.slot): float(slot.taken_at)
        for slot in QuotaSlot.query(user_id, consistent_read=True)
        if slot.taken_at is not None
    }


_shuffle = secrets.SystemRandom().shuffle


def candidates(user_id: str, window: Window) -> Iterator[int]:
    """Slots to try, one at a time, for as long as the caller's claims lose their races: a
    random guess first, then the free slots of a fresh read (read again once all were tried).
    Raises RateLimited once a read finds none free; gives up (429, retry at once) after
    `limit + 2` tries, which only a storm of conflicting transactions can reach."""
    yield secrets.randbelow(window.limit)
    tries = 1
    while tries < window.limit + 2:
        taken = slots_in_use(user_id)
        free = window.free_slots(taken)
        if not free:
            raise window.refusal(taken)
        _shuffle(free)
        for slot in free[: window.limit + 2 - tries]:
            tries += 1
            yield slot
    raise RateLimited("Too many submits at once; try again.", retry_after=1)


def candidate_sets(user_id: str, window: Window, count: int) -> Iterator[list[int]]:
    """Sets of `count` distinct slots to try together (one transaction claims them all, so a
    request gets all its units or none), for as long as the caller's claims lose their races:
    a random guess first, then free slots of a fresh read. Raises RateLimited once a read finds
    fewer than `count` free (nothing is taken then); gives up as `candidates` does."""
    if count > window.limit:
        raise window.refusal({}, count)
    yield secrets.SystemRandom().sample(range(window.limit), count)
    for _ in range(window.limit + 1):
        taken = slots_in_use(user_id)
        free = window.free_slots(taken)
        if len(free) < count:
            raise window.refusal(taken, count)
        _shuffle(free)
        yield free[:count]
    raise RateLimited("Too many submits at once; try again.", retry_after=1)


def claim(tx: TransactWrite, user_id: str, slot: int, window: Window, paid_for: str) -> None:
    """Add the conditional claim of `slot` to the transaction that writes what it pays for."""
    expires = clock.from_epoch(window.now_ms / 1000) + timedelta(seconds=window.seconds)
    actions: list[Any] = [
        QuotaSlot.taken_at.set(window.now_ms),
        QuotaSlot.generation_id.set(paid_for),
        QuotaSlot.expires_at.set(expires),
    ]
    free = QuotaSlot.taken_at.does_not_exist() | (
        QuotaSlot.taken_at <= window.now_ms - window.seconds * 1000
    )
    tx.update(QuotaSlot(user_id, slot), actions=actions, condition=free)


def release_all(user_id: str) -> None:
    """Erasure: the user's slots go (they name the user)."""
    with QuotaSlot.batch_write() as batch:
        for slot in QuotaSlot.query(user_id, consistent_read=True):
            batch.delete(slot)
