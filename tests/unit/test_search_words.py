"""Search reads words as the prompt screen does, drops stop-words and bounds a query."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.services import search
from chalicelib.services.errors import InvalidRequest


def test_case_accents_and_punctuation_do_not_matter() -> None:
    assert search.words_of("A Crème-Brûlée, on the TABLE!") == ["creme", "brulee", "table"]
    assert search.query_words("CRÈME  brûlée!!") == ["creme", "brulee"]


def test_each_word_once_in_reading_order() -> None:
    assert search.words_of("fox owl fox OWL cat") == ["fox", "owl", "cat"]


@pytest.mark.parametrize(
    "query", ["", "   ", "!!! ,,,", "the of and", "x" * 101, "one two three four five six"]
)
def test_an_empty_overlong_or_too_wordy_query_is_refused(query: str) -> None:
    with pytest.raises(InvalidRequest):
        search.query_words(query)


def test_five_words_and_a_hundred_characters_are_allowed() -> None:
    assert len(search.query_words("one two three four five")) == 5
    assert search.query_words("the " * 24 + "fox") == ["fox"]  # 99 characters


@given(st.text(max_size=200))
def test_a_prompt_is_found_by_any_of_its_words(prompt: str) -> None:
    words = search.words_of(prompt)
    assert not set(words) & search.STOP_WORDS
    for word in words[: search.MAX_QUERY_WORDS]:
        # What a prompt is indexed under, a query of that word asks for.
        assert search.words_of(word) == [word]
