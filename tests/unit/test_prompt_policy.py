from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.services import prompt_policy
from chalicelib.services.prompt_policy import SEVERITY, Verdict, normalise, screen_prompt
from chalicelib.settings import get_settings

POLICY = json.loads(prompt_policy.DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))

FLAGGED = [
    # plain terms, one or more per category
    ("child porn", "illegal"),
    ("a jailbait photo shoot", "illegal"),
    ("sex on the beach, two people", "sexual"),
    ("pornographic poster", "sexual"),
    ("heil hitler banner", "hateful"),
    ("a sieg heil salute", "hateful"),
    ("a beheading in the town square", "violent"),
    ("a severed head on a spike", "violent"),
    # combinations: a minor near nudity or a sexual term
    ("naked child at the beach", "illegal"),
    ("sexy schoolgirl", "illegal"),
    ("teen, nude, photo", "illegal"),
    # case and spacing
    ("SEX", "sexual"),
    ("Heil   Hitler", "hateful"),
    ("heil\nhitler", "hateful"),
    ("s e x", "sexual"),
    ("s.e.x", "sexual"),
    ("s-e-x", "sexual"),
    ("S_E_X", "sexual"),
    ("a s e x y scene", "sexual"),
    ("c h i l d porn", "illegal"),
    # leetspeak
    ("s3x", "sexual"),
    ("$ex", "sexual"),
    ("5EX", "sexual"),
    ("p0rn", "sexual"),
    ("h3il h1tl3r", "hateful"),
    ("n1gg3r", "hateful"),
    ("k1ll all jews", "hateful"),
    ("b3h3ad1ng", "violent"),
    ("sex!", "sexual"),
    # repeated letters
    ("seeexxx", "sexual"),
    ("sexxx", "sexual"),
    ("pooorn", "sexual"),
    # look-alike letters: Cyrillic, Greek, fullwidth, mathematical, Lisu
    ("s\u0435x", "sexual"),  # Cyrillic ie
    ("\u0455\u0435\u0445", "sexual"),  # Cyrillic dze, ie, ha
    ("\u03c1\u03bfrn", "sexual"),  # Greek rho, omicron
    ("\uff53\uff45\uff58", "sexual"),  # fullwidth
    ("\U0001d42c\U0001d41e\U0001d431", "sexual"),  # mathematical bold
    ("\ua4e2EX", "sexual"),  # Lisu letter sa
    # invisible and combining characters
    ("s\u200bex", "sexual"),  # zero-width space
    ("s\u200de\u200cx", "sexual"),  # zero-width joiner and non-joiner
    ("se\u00adx", "sexual"),  # soft hyphen
    ("\ufeffsex", "sexual"),  # byte order mark
    ("s\u202eex", "sexual"),  # right-to-left override
    ("s\u2066e\u2069x", "sexual"),  # bidi isolates
    ("se\x00x", "sexual"),  # NUL
    ("s\u0336e\u0336x\u0336", "sexual"),  # combining strike-through
    ("s\u00e9x", "sexual"),  # accented
    ("s\u3164e\u3164x", "sexual"),  # Hangul filler as a fake space
]

ALLOWED = [
    "Essex",
    "Sussex",
    "Middlesex county",
    "a cocktail at sunset",
    "portrait of a therapist",
    "Assassin's Creed cover art",
    "assassin\u2019s creed",
    "a bunch of grapes",
    "classic car",
    "Dick Van Dyke dancing",
    "Moby Dick",
    "a peacock and a cockatoo",
    "Scunthorpe United",
    "Penistone church",
    "a sextant on a ship",
    "unisex clothing",
    "same-sex couple at their wedding",
    "the opposite sex",
    "sex education class for teens",
    "Sex Pistols album cover",
    "rapeseed field",
    "a field of oilseed rape",
    "a torpedo",
    "niggardly",
    "Al Gore at a podium",
    "a map of Lisbon in 1488",
    "a child looking at a naked mole rat",
    "a child watching the stars with the naked eye",
    "teen titans",
    "C minor, seductive jazz",
    "nude lipstick",
    "a kid flying a kite",
    "1girl, 8k, 3d render, 1080p",
    "wow! a castle!",
    "plan a, b or c",
    "se xylophone",
]


@pytest.fixture
def policy_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A policy file of the test's own, used instead of the shipped one until the test ends."""
    path = tmp_path / "terms.json"
    monkeypatch.setenv("OBJEKTIFY_PROMPT_POLICY_PATH", str(path))
    get_settings.cache_clear()
    prompt_policy._policy.cache_clear()
    yield path
    monkeypatch.undo()
    get_settings.cache_clear()
    prompt_policy._policy.cache_clear()


@pytest.mark.parametrize("prompt, category", FLAGGED)
def test_disguised_terms_are_refused_with_their_category(prompt: str, category: str) -> None:
    assert screen_prompt(prompt).category == category


@pytest.mark.parametrize("prompt", ALLOWED)
def test_innocent_words_containing_a_bad_one_pass(prompt: str) -> None:
    assert screen_prompt(prompt) == Verdict(category=None, matched=None)
    assert screen_prompt(prompt).allowed


def test_every_category_has_a_flagged_example() -> None:
    assert {category for _, category in FLAGGED} >= set(SEVERITY)


@pytest.mark.parametrize(
    "category, term", [(c, t) for c, terms in POLICY["terms"].items() for t in terms]
)
def test_every_listed_term_is_refused_on_its_own(category: str, term: str) -> None:
    verdict = screen_prompt(term.removesuffix("*"))
    assert verdict.category == category
    assert verdict.matched is not None


@pytest.mark.parametrize("phrase", POLICY["allow"])
def test_allowed_phrases_pass(phrase: str) -> None:
    assert screen_prompt(phrase).allowed


def test_a_refusal_names_the_term_that_matched() -> None:
    assert screen_prompt("A P0RN poster") == Verdict(category="sexual", matched="porn*")
    assert screen_prompt("sexy teen") == Verdict(category="illegal", matched="teen + sexy")
    assert screen_prompt("child porn") == Verdict(category="illegal", matched="child porn")


@pytest.mark.parametrize(
    "texts, category",
    [
        (("beheading, heil hitler, sex, child porn",), "illegal"),
        (("beheading and sex",), "sexual"),
        (("a beheading", "heil hitler"), "hateful"),
        (("a beheading", ""), "violent"),
        (("a landscape", "blurry, sex"), "sexual"),
    ],
)
def test_the_most_severe_category_wins_across_prompt_and_negative_prompt(
    texts: tuple[str, ...], category: str
) -> None:
    assert screen_prompt(*texts).category == category


def test_a_phrase_never_spans_the_prompt_and_the_negative_prompt() -> None:
    assert screen_prompt("portrait, heil", "hitler, blurry").allowed


def test_an_allowed_phrase_does_not_excuse_the_same_term_elsewhere() -> None:
    assert screen_prompt("same sex couple, sex").category == "sexual"


def test_a_combination_needs_its_words_close_together() -> None:
    far = "a child " + "walking through a quiet green park on a " * 3 + "nude beach"
    assert screen_prompt(far).allowed
    assert screen_prompt("a child on a nude beach").category == "illegal"


# A nudity word next to a person asks for sexual content, however it is spelled.
NUDITY_REQUESTS = [
    "naked woman",
    "a nude girl on a bed",
    "photo of a beautiful young woman who is completely naked",
    "a man, nude, standing in the rain",
    "nude model posing in a studio",
    "topless lady on the beach",
    "portrait of her, undressed",
    "a couple without clothes in the forest",
    "celebrity nudes",
    "a female body, unclothed",
    "n4k3d w0man",  # leetspeak
    "nak3d girl",
    "n a k e d girl",  # spaced out
    "n.u.d.e model",  # dotted
    "nuuuude woman",  # repeated letters
    "n\u0430ked woman",  # Cyrillic a
    "\uff4e\uff41\uff4b\uff45\uff44 woman",  # full width
    "na\u200bked woman",  # zero-width space
]

# Nudity words about colours, things and sayings, near a person or not, are innocent.
INNOCENT_NUDITY_WORDS = [
    "a naked mole rat",
    "the naked eye",
    "nude lipstick",
    "a nude colour palette",
    "a man looking at a naked mole rat",
    "a woman seen with the naked eye from the shore",
    "a model wearing nude lipstick",
    "a woman in nude heels",
    "nude colour palette for a woman's bedroom",
    "a man under naked branches in winter",
    "the naked truth, a man speaking",
    "a man stripping wallpaper",
    "blue tits in a garden with a man",
    "chicken breasts cooked by a man",
    "a woman holding a naked flame",
]


@pytest.mark.parametrize("prompt", NUDITY_REQUESTS)
def test_a_person_near_nudity_is_refused_as_sexual(prompt: str) -> None:
    assert screen_prompt(prompt).category == "sexual"


@pytest.mark.parametrize("prompt", INNOCENT_NUDITY_WORDS)
def test_nudity_words_about_colours_things_and_sayings_pass(prompt: str) -> None:
    assert screen_prompt(prompt).allowed


def test_a_child_near_nudity_stays_illegal_not_sexual() -> None:
    assert screen_prompt("naked little girl").category == "illegal"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Héllo,  WORLD!", "hello world"),
        ("S.E.X", "sex"),
        ("s e x y  cat", "sexy cat"),
        ("seeexxx", "seexx"),
        ("\uff53\uff45\uff58", "sex"),
        ("s\u200be\u0301x", "sex"),
        ("\u0441\u043e\u0440", "cop"),  # Cyrillic looks like "cop", though it reads "sor"
        ("p0rn, 1488, $$$", "porn 1488"),
        ("assassin's", "assassins"),
        ("stra\u00dfe \u00e6on", "strasse aeon"),
        ("猫 and 犬", "and"),
    ],
)
def test_normalise_reads_text_as_the_matcher_does(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_the_policy_file_can_be_replaced_by_a_setting(policy_file: Path) -> None:
    policy_file.write_text(
        json.dumps({"terms": {"violent": ["banana split"]}, "allow": ["banana split sundae"]})
    )
    assert screen_prompt("a b4nana  split") == Verdict(category="violent", matched="banana split")
    assert screen_prompt("a banana split sundae").allowed
    assert screen_prompt("sex").allowed


def test_a_policy_file_with_an_unknown_category_is_refused(policy_file: Path) -> None:
    policy_file.write_text(json.dumps({"terms": {"rude": ["bother"]}}))
    with pytest.raises(ValueError, match="unknown categories"):
        screen_prompt("anything")


def test_importing_the_module_loads_no_matching_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, chalicelib.services.prompt_policy; "
        "print(sorted(m for m in ('ahocorasick', 'anyascii', 'confusable_homoglyphs') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# Property tests -------------------------------------------------------------------------------

FLAGGED_ASCII = [(p, c) for p, c in FLAGGED if p.isascii() and c is not None and "\x00" not in p]
INVISIBLE = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e"])
# Everyday prompt words plus words that contain a term; none is a term, none is one of the
# allow-list's phrase words, and none names a minor or nudity (combinations).
BENIGN_WORDS = [
    "portrait", "landscape", "castle", "dragon", "sunset", "highly", "detailed", "oil",
    "painting", "watercolor", "cinematic", "lighting", "forest", "river", "city", "night",
    "essex", "sussex", "middlesex", "cocktail", "therapist", "therapists", "assassin",
    "assassins", "classic", "grape", "grapes", "scunthorpe", "penistone", "sextant", "sexton",
    "sextet", "unisex", "bisexual", "asexual", "torpedo", "pedometer", "niggardly", "peacock",
    "cockatoo", "shuttlecock", "dickens", "titmouse", "analysis", "bass", "passage", "drape",
    "skyscraper", "sussexshire", "kidney", "kidnapper", "hitchcock", "document", "cumulus",
    "gore", "goretex", "killer", "whale", "1080p", "8k", "4k", "3d", "1girl", "f/1.8",
]  # fmt: skip
SEPARATORS = st.sampled_from([" ", ", ", " | ", "\n", ". ", " - ", ": "])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FLAGGED_ASCII), st.data())
def test_inserting_invisible_characters_never_lets_a_flagged_prompt_pass(
    case: tuple[str, str], data: st.DataObject
) -> None:
    prompt, category = case
    chars = list(prompt)
    for _ in range(data.draw(st.integers(1, 6))):
        chars.insert(data.draw(st.integers(0, len(chars))), data.draw(INVISIBLE))
    assert screen_prompt("".join(chars)).category == category


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FLAGGED_ASCII), st.lists(st.booleans(), min_size=64, max_size=64))
def test_changing_case_never_lets_a_flagged_prompt_pass(
    case: tuple[str, str], upper: list[bool]
) -> None:
    prompt, category = case
    mixed = "".join(c.upper() if upper[i % 64] else c for i, c in enumerate(prompt))
    assert screen_prompt(mixed).category == category


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(FLAGGED_ASCII),
    st.lists(st.sampled_from(BENIGN_WORDS), max_size=5),
    st.lists(st.sampled_from(BENIGN_WORDS), max_size=5),
)
def test_benign_context_never_hides_a_flagged_prompt(
    case: tuple[str, str], before: list[str], after: list[str]
) -> None:
    prompt, category = case
    assert screen_prompt(", ".join([*before, prompt, *after])).category == category


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(BENIGN_WORDS), SEPARATORS), max_size=30))
def test_benign_words_are_never_flagged(words: list[tuple[str, str]]) -> None:
    prompt = "".join(word + separator for word, separator in words)
    assert screen_prompt(prompt).allowed, prompt


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=300)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT, ANY_TEXT)
def test_screening_never_raises_on_arbitrary_text(prompt: str, negative: str) -> None:
    verdict = screen_prompt(prompt, negative)
    assert verdict.category in (None, *SEVERITY)
    assert (verdict.matched is None) == verdict.allowed


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_normalised_text_is_lowercase_ascii_words_and_normalising_again_changes_nothing(
    text: str,
) -> None:
    once = normalise(text)
    assert re.fullmatch(r"([a-z0-9]+( [a-z0-9]+)*)?", once)
    assert normalise(once) == once
