from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.adapters import ids
from chalicelib.services import cursors
from chalicelib.services.errors import InvalidCursor, InvalidRequest
from chalicelib.settings import get_settings


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBJEKTIFY_SIGNING_KEYS", "new-key,old-key")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


positions = st.dictionaries(st.text(max_size=8), st.text(max_size=20) | st.integers(), max_size=4)


@given(positions)
def test_a_cursor_round_trips(position: dict) -> None:
    assert cursors.decode(cursors.encode(position, "feed"), "feed") == position


@given(positions, st.data())
def test_any_modified_cursor_is_refused(position: dict, data: st.DataObject) -> None:
    cursor = cursors.encode(position, "feed")
    index = data.draw(st.integers(0, len(cursor) - 1))
    replacement = data.draw(st.sampled_from("ABCabc012-_"))
    tampered = cursor[:index] + replacement + cursor[index + 1 :]
    if tampered == cursor:
        return
    with pytest.raises(InvalidCursor):
        cursors.decode(tampered, "feed")


def test_a_cursor_is_bound_to_its_list() -> None:
    cursor = cursors.encode({"k": "v"}, "mine:alice")
    with pytest.raises(InvalidCursor):
        cursors.decode(cursor, "mine:bob")


def test_cursors_signed_with_a_rotated_out_key_still_verify(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OBJEKTIFY_SIGNING_KEYS", "old-key")
    get_settings.cache_clear()
    cursor = cursors.encode({"k": 1}, "feed")
    monkeypatch.setenv("OBJEKTIFY_SIGNING_KEYS", "new-key,old-key")
    get_settings.cache_clear()
    assert cursors.decode(cursor, "feed") == {"k": 1}
    monkeypatch.setenv("OBJEKTIFY_SIGNING_KEYS", "new-key")
    get_settings.cache_clear()
    with pytest.raises(InvalidCursor):
        cursors.decode(cursor, "feed")


@pytest.mark.parametrize(
    "bad", ["", "x", "%%%", "a" * 5000, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
)
def test_garbage_cursors_are_refused(bad: str) -> None:
    with pytest.raises(InvalidCursor):
        cursors.decode(bad, "feed")


@pytest.mark.parametrize("raw, ok", [(None, 24), ("1", 1), ("100", 100)])
def test_page_limits(raw: str | None, ok: int) -> None:
    assert cursors.page_limit(raw) == ok


@pytest.mark.parametrize("raw", ["0", "101", "-1", "abc", "1.5"])
def test_page_limits_out_of_range_are_refused(raw: str) -> None:
    with pytest.raises(InvalidRequest):
        cursors.page_limit(raw)


def test_ids_are_time_ordered_and_well_formed() -> None:
    first, second = ids.new_id(1000), ids.new_id(2000)
    assert first < second
    assert ids.is_id(first) and len(first) == 26


@pytest.mark.parametrize(
    "bad", ["../etc", "01ARZ3NDEKTSV4RRFFQ69G5FA#", "%00", "", "01arz3ndektsv4rrffq69g5fav"]
)
def test_ids_with_path_or_key_injection_characters_are_not_ids(bad: str) -> None:
    assert not ids.is_id(bad)
