"""Where a queued generation stands in its endpoint's queue, and about when its turn comes,
from two counters instead of a count of the queue (docs/lifecycle.md, "Queue position").

The generations table's stream (events/changes.py) calls `record` for every change of status:
- a new `queued` generation takes a ticket: the endpoint's `accepted` counter, plus one;
- a generation that leaves `queued` (the model answered, it failed, it was erased) adds one
  to the endpoint's `finished` counter and to the current minute's, once (its ticket is taken
  off it in the same transaction, on the condition that it is still there).
A queued generation's position is then `ticket - finished` (at least 1), and its estimate the
position over the recent throughput: the finishes of the last `queue_throughput_minutes`
minutes (or `queue_default_job_seconds` a job when none finished lately).
"""

from __future__ import annotations

import math
import time
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.adapters import clock
from chalicelib.models.base import refused_by_condition, transaction
from chalicelib.models.generations import QUEUED, Generation
from chalicelib.models.queue_counters import QueueCounter, minute_key
from chalicelib.settings import get_settings

# A page of generations reads the counters once (and a burst of GETs once a second).
SNAPSHOT_SECONDS = 1.0
_snapshots: dict[str, tuple[float, tuple[int, int]]] = {}


def endpoint() -> str:
    return get_settings().endpoint_name


def _minute(moment_seconds: float) -> str:
    return time.strftime("%Y%m%d%H%M", time.gmtime(moment_seconds))


def record(generation_id: str, old_status: str | None, new_status: str | None) -> None:
    """Account for one change of a generation's status (None: no item before / after)."""
    if old_status is None and new_status == QUEUED:
        _take_ticket(generation_id)
    elif old_status == QUEUED and new_status != QUEUED:
        _finish(generation_id, deleted=new_status is None)


def _take_ticket(generation_id: str) -> None:
    try:
        generation = Generation.get(generation_id, consistent_read=True)
    except Generation.DoesNotExist:
        return  # deleted before its arrival was seen: it never waits
    if generation.status != QUEUED or generation.queue_ticket is not None:
        return  # a repeated stream record: it has its ticket
    counter = QueueCounter(endpoint())
    counter.update(actions=[QueueCounter.accepted.add(1)])
    ticket = int(counter.accepted or 0)
    try:
        Generation(generation_id).update(
            actions=[Generation.queue_ticket.set(ticket)],
            condition=(Generation.status == QUEUED) & Generation.queue_ticket.does_not_exist(),
        )
    except UpdateError as exc:
        if not refused_by_condition(exc):
            raise
        # Another run of this record won the race, or the generation left the queue since the
        # read: the number just taken is spent. Counted as finished, it makes the places of
        # those queued before it read one too low until they finish, instead of every later
        # place one too high for good.
        QueueCounter(endpoint()).update(actions=[QueueCounter.finished.add(1)])


def _finish(generation_id: str, deleted: bool) -> None:
    now = clock.epoch()
    minute = QueueCounter(minute_key(endpoint(), _minute(now)))
    minute_actions: list[Action] = [
        QueueCounter.finished.add(1),
        QueueCounter.expires_at.set(
            clock.from_epoch(now) + timedelta(minutes=get_settings().queue_throughput_minutes + 60)
        ),
    ]
    if deleted:
        # The item (and its ticket) is gone: count it without the once-only condition.
        QueueCounter(endpoint()).update(actions=[QueueCounter.finished.add(1)])
        minute.update(actions=minute_actions)
        return
    try:
        with transaction() as tx:
            tx.update(
                Generation(generation_id),
                actions=[Generation.queue_ticket.remove()],
                condition=Generation.queue_ticket.exists(),
            )
            tx.update(QueueCounter(endpoint()), actions=[QueueCounter.finished.add(1)])
            tx.update(minute, actions=minute_actions)
    except TransactWriteError as exc:
        if not refused_by_condition(exc):
            raise
        # Counted already (a repeated record), or it never had a ticket.


def _counters() -> tuple[int, int]:
    """(finished, finished in the recent window) of the endpoint, cached for a second."""
    name = endpoint()
    cached = _snapshots.get(name)
    now = time.monotonic()
    if cached is not None and now - cached[0] < SNAPSHOT_SECONDS:
        return cached[1]
    minutes = get_settings().queue_throughput_minutes
    wall = clock.epoch()
    keys = [name] + [minute_key(name, _minute(wall - 60 * n)) for n in range(minutes)]
    finished, recent = 0, 0
    for item in QueueCounter.batch_get(keys):
        if item.counter == name:
            finished = int(item.finished or 0)
        else:
            recent += int(item.finished or 0)
    _snapshots[name] = (now, (finished, recent))
    return finished, recent


def position_of(generation: Generation) -> dict[str, Any] | None:
    """`{position, eta_seconds}` for a queued generation with a ticket; None otherwise."""
    if generation.status != QUEUED or generation.queue_ticket is None:
        return None
    finished, recent = _counters()
    position = max(1, int(generation.queue_ticket) - finished)
    settings = get_settings()
    if recent > 0:
        seconds_per_job = settings.queue_throughput_minutes * 60 / recent
    else:
        seconds_per_job = float(settings.queue_default_job_seconds)
    return {"position": position, "eta_seconds": math.ceil(position * seconds_per_job)}
