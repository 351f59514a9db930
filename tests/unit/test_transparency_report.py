"""The transparency report reads its period's day counters, not the history: it answers what a
scan of every statement and notice would (the reference below is the report as it was computed
from Scans), with the same few BatchGetItem requests however much history there is; and its
median wait is as exact as the histogram's buckets. Over moto's in-process AWS."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.models.notices import DECIDED as NOTICE_DECIDED
from chalicelib.models.notices import Notice
from chalicelib.models.report_days import wait_bucket
from chalicelib.models.statements import (
    ACCOUNT_SUSPENDED,
    ACCOUNT_TERMINATED,
    RESTRICTIONS,
    REVERSED,
    UPHELD,
    Statement,
)
from chalicelib.services import appeals, moderation, notices, report_days, terms, transparency
from chalicelib.settings import get_settings
from tests.support.in_process_aws import aws, consented_profile, painted, scanned
from tests.unit.test_idempotent_replay import aws_calls


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OBJEKTIFY_STRIKE_LIMIT", "1")
    monkeypatch.setenv("OBJEKTIFY_SIGNING_KEYS", "report-key")
    monkeypatch.setenv("OBJEKTIFY_ADDRESS_HASH_KEY", "address-key")
    get_settings.cache_clear()
    with aws():
        terms.publish_terms("Terms for the transparency report test.")
        yield
    get_settings.cache_clear()


def scanned_report(period: transparency.Period) -> dict[str, Any]:
    """The report as a Scan of every statement and notice computes it (the reference)."""
    decisions = [
        s for s in Statement.scan() if s.decision in RESTRICTIONS and period.holds(s.created_at)
    ]
    every = list(Statement.scan())
    found = [n for n in Notice.scan() if period.holds(n.created_at)]
    waits = [
        (n.decided_at - n.created_at).total_seconds() / 3600
        for n in Notice.scan()
        if n.status == NOTICE_DECIDED and period.holds(n.decided_at)
    ]

    def count(key: Any) -> dict[str, int]:
        return dict(sorted(Counter(key(s) for s in decisions).items()))

    def appealed(outcome: str) -> int:
        return sum(
            1 for s in every if period.holds(s.appeal_decided_at) and s.appeal_outcome == outcome
        )

    return {
        "from": period.start.date().isoformat(),
        "to": (period.end - timedelta(days=1)).date().isoformat(),
        "notices": {
            "total": len(found),
            "by_category": dict(sorted(Counter(n.category for n in found).items())),
        },
        "decisions": {
            "total": len(decisions),
            "by_decision": count(lambda s: s.decision),
            "by_ground": count(lambda s: s.ground),
            "by_category": count(lambda s: s.category),
            "by_source": count(lambda s: s.source),
            "automated_detection": sum(1 for s in decisions if s.automated_detection),
            "automated_decision": sum(1 for s in decisions if s.automated_decision),
        },
        "median_hours_notice_to_decision": round(statistics.median(waits), 2) if waits else None,
        "appeals": {
            "received": sum(1 for s in every if period.holds(s.appealed_at)),
            "upheld": appealed(UPHELD),
            "reversed": appealed(REVERSED),
        },
        "accounts": {
            "suspended": sum(1 for s in decisions if s.decision == ACCOUNT_SUSPENDED),
            "terminated": sum(1 for s in decisions if s.decision == ACCOUNT_TERMINATED),
        },
    }


def _history(n: int) -> None:
    """Decisions of every kind: scan rejections with the suspensions they cause, a notice
    and the removal it leads to, appeals upheld and reversed."""
    for i in range(n):
        creator = consented_profile(f"rejected-{n}-{i}")
        scanned(painted(creator, f"a storm {i}"), "reject")
        rejection = next(
            s for s in Statement.scan() if s.user_id == creator and s.decision == "content_removed"
        )
        appeals.file(creator, rejection.statement_id, "It is a lighthouse.")
        action = "reverse" if i % 2 else "uphold"
        appeals.decide("moderator-2", rejection.statement_id, action, "looked again")
        noticed = consented_profile(f"noticed-{n}-{i}")
        image_id = painted(noticed, f"a harbour {i}")
        scanned(image_id, "publish")
        for category in ("copyright", "privacy"):
            notices.file_notice(
                image_id, category, "Mine.", "A Notifier", "n@example.com", f"10.1.{n}.{i}"
            )
        moderation.decide("moderator-1", image_id, "remove", "a copy", "copyright")


def _requests(period: transparency.Period) -> tuple[Counter[str], dict[str, Any]]:
    with aws_calls() as calls:
        shown = transparency.report(period)
    return Counter(op for op, _ in calls), shown


def test_the_report_counts_what_a_scan_of_the_history_finds(world: None) -> None:
    _history(2)
    for period in (
        transparency.Period.of_dates(None, None),
        transparency.Period.of_dates("2026-01-01", "2026-01-31"),
    ):
        assert transparency.report(period) == scanned_report(period)
    shown = transparency.report(transparency.Period.of_dates(None, None))
    assert shown["decisions"]["by_source"].get("notice") == 2
    assert shown["appeals"] == {"received": 2, "upheld": 1, "reversed": 1}
    assert shown["notices"]["by_category"] == {"copyright": 2, "privacy": 2}


def test_the_report_costs_the_same_requests_however_long_the_history(world: None) -> None:
    period = transparency.Period.of_dates(None, None)  # 31 days: 124 day items
    _history(1)
    few, _ = _requests(period)
    _history(3)
    many, shown = _requests(period)
    assert few == many == Counter({"BatchGetItem": 2})
    assert shown["decisions"]["total"] == scanned_report(period)["decisions"]["total"]


@given(st.lists(st.floats(min_value=0, max_value=400 * 24 * 3600), min_size=1, max_size=40))
def test_the_median_wait_is_as_exact_as_its_bucket(waits: list[float]) -> None:
    histogram = Counter(f"{report_days.WAIT}{wait_bucket(s)}" for s in waits)
    median = report_days.median_hours(histogram)
    exact = statistics.median(waits) / 3600
    # Half a bucket either way (a minute's, or an hour's from 48 hours on), plus the rounding.
    assert median is not None and abs(median - exact) <= 0.5 + 0.005
    if max(waits) < 47 * 3600:
        assert abs(median - exact) <= 0.5 / 60 + 0.005
