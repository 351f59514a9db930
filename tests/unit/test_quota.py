from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.services.quota import take

WINDOW = 600
LIMIT = 30


def test_a_fresh_user_may_generate() -> None:
    decision = take(None, 1_000_000.0, LIMIT, WINDOW)
    assert decision.allowed
    assert decision.times == [1_000_000.0]


def test_the_limit_holds_within_the_window_and_frees_up_after_it() -> None:
    now = 10_000_000.0
    times: list[float] = []
    for i in range(LIMIT):
        decision = take(times, now + i, LIMIT, WINDOW)
        assert decision.allowed
        times = decision.times
    refused = take(times, now + LIMIT, LIMIT, WINDOW)
    assert not refused.allowed
    assert 1 <= refused.retry_after <= WINDOW
    later = take(times, now + WINDOW * 1000 + 1, LIMIT, WINDOW)
    assert later.allowed


@given(
    st.lists(st.floats(min_value=0, max_value=2_000_000), max_size=80),
    st.floats(min_value=0, max_value=3_000_000),
    st.integers(1, 40),
)
def test_never_more_than_limit_in_any_window(recent: list[float], now: float, limit: int) -> None:
    decision = take(recent, now, limit, WINDOW)
    in_window = [t for t in decision.times if t > now - WINDOW * 1000]
    assert len(in_window) <= limit
    if decision.allowed:
        assert now in decision.times
    else:
        assert decision.retry_after >= 1
