from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.services.quota import Window

SECONDS = 600
LIMIT = 30
NOW = 10_000_000.0


def test_a_fresh_user_has_every_slot_free() -> None:
    assert Window(LIMIT, SECONDS, NOW).free_slots({}) == list(range(LIMIT))


def test_a_slot_frees_up_once_its_unit_leaves_the_window() -> None:
    window = Window(LIMIT, SECONDS, NOW)
    assert not window.is_free(NOW - SECONDS * 1000 + 1)
    assert window.is_free(NOW - SECONDS * 1000)


def test_a_full_quota_says_when_the_oldest_unit_frees_up() -> None:
    taken = {n: NOW - 1000 * (100 - n) for n in range(LIMIT)}  # oldest: 100 s ago
    window = Window(LIMIT, SECONDS, NOW)
    assert window.free_slots(taken) == []
    assert window.retry_after(taken) == SECONDS - 100


def test_slots_beyond_a_lowered_limit_are_not_used() -> None:
    taken = {n: NOW for n in range(5)}
    window = Window(3, SECONDS, NOW)
    assert window.free_slots(taken) == []
    assert 1 <= window.retry_after(taken) <= SECONDS


@given(
    st.dictionaries(st.integers(0, 40), st.floats(min_value=0, max_value=2 * NOW), max_size=41),
    st.integers(1, 40),
)
def test_free_slots_are_exactly_those_unused_within_the_window(
    taken: dict[int, float], limit: int
) -> None:
    window = Window(limit, SECONDS, NOW)
    free = window.free_slots(taken)
    in_use = [n for n in range(limit) if n in taken and taken[n] > NOW - SECONDS * 1000]
    assert sorted(free + in_use) == list(range(limit))
    if not free:
        assert 1 <= window.retry_after(taken) <= SECONDS
