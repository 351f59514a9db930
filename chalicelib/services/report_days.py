"""What the transparency report counts, added to the day's counters (`models/report_days.py`)
in the transaction of the thing counted, and read back for a period.

Each `*_made`/`*_filed`/`*_decided` function adds one write to the caller's transaction; the
caller's own conditions make it count once (a refused or repeated write adds nothing).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from pynamodb.expressions.operand import Path

from chalicelib.models.base import Transaction
from chalicelib.models.notices import Notice
from chalicelib.models.report_days import SHARDS, ReportDay, wait_bucket
from chalicelib.models.statements import RESTRICTIONS, REVERSED, UPHELD, Statement

WAIT = "wait_minutes."


def _add(tx: Transaction, moment: datetime, names: Iterable[str]) -> None:
    """One shard of the moment's UTC day adds 1 to each counter named."""
    item = ReportDay(moment.date().isoformat(), secrets.randbelow(SHARDS))
    tx.update(item, actions=[Path([name]).add(1) for name in names])


def decision_counters(statement: Statement) -> list[str]:
    """What a statement of reasons adds to its day: a restriction, by each of its kinds."""
    if statement.decision not in RESTRICTIONS:
        return []
    names = ["decisions"]
    for field in ("decision", "ground", "category", "source"):
        value = getattr(statement, field)
        if value is not None:
            names.append(f"decisions.by_{field}.{value}")
    if statement.automated_detection:
        names.append("decisions.automated_detection")
    if statement.automated_decision:
        names.append("decisions.automated_decision")
    return names


def statement_made(tx: Transaction, statement: Statement) -> None:
    """A decision's statement of reasons, written in `tx`."""
    names = decision_counters(statement)
    if names:
        _add(tx, statement.created_at, names)


def appeal_filed(tx: Transaction, at: datetime) -> None:
    _add(tx, at, ["appeals.received"])


def appeal_decided(tx: Transaction, at: datetime, outcome: str) -> None:
    if outcome in (UPHELD, REVERSED):
        _add(tx, at, [f"appeals.{outcome}"])


def notice_counters(notice: Notice) -> list[str]:
    return ["notices", f"notices.by_category.{notice.category}"]


def wait_counter(notice: Notice, decided_at: datetime) -> str:
    """A notice answered: its wait from filing to decision, as a bucket of the histogram."""
    return f"{WAIT}{wait_bucket((decided_at - notice.created_at).total_seconds())}"


def notice_filed(tx: Transaction, notice: Notice) -> None:
    _add(tx, notice.created_at, notice_counters(notice))


def notice_decided(tx: Transaction, notice: Notice, decided_at: datetime) -> None:
    _add(tx, decided_at, [wait_counter(notice, decided_at)])


def counts(first: date, days: int) -> Counter[str]:
    """Every counter of the `days` UTC days from `first`, summed over days and shards."""
    keys = [
        ((first + timedelta(days=n)).isoformat(), shard)
        for n in range(days)
        for shard in range(SHARDS)
    ]
    total: Counter[str] = Counter()
    for item in ReportDay.batch_get(keys, consistent_read=True):
        total.update(item.counts)
    return total


def median_hours(total: Counter[str]) -> float | None:
    """The median notice-to-decision wait of the histogram in `total`, in hours (2 decimals),
    as exact as its buckets: within half a minute under 48 hours, half an hour beyond."""
    histogram = sorted(
        (int(name.removeprefix(WAIT)), n)
        for name, n in total.items()
        if name.startswith(WAIT) and n > 0
    )
    size = sum(n for _, n in histogram)
    if not size:
        return None

    def nth(position: int) -> int:
        seen = 0
        for minutes, n in histogram:
            seen += n
            if position < seen:
                return minutes
        raise AssertionError(position)

    middle = (nth((size - 1) // 2) + nth(size // 2)) / 2
    return round(middle / 60, 2)
