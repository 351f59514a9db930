"""Prompt screening: does a prompt (or its negative prompt) break the content policy?

The policy lives in data, ``chalicelib/policy/prompt_terms.json`` (or the file named by the
``prompt_policy_path`` setting): words and phrases per refusal category, combinations that only
break the policy together (a child near nudity is ``illegal``), and an allow-list of innocent
phrases that contain a term ("same sex", "naked eye").

Text and terms pass through the same ``normalise``: NFKC and casefold; invisible characters
(zero-width joiners, bidi overrides, soft hyphens, NUL) are deleted, not made spaces, so they
cannot split a word; letters that imitate Latin ones become that letter; combining marks go;
leetspeak inside a word is read as letters; three or more of a letter shrink to two; and words
spelled out a letter at a time ("s e x", "s.e.x") are joined.

Terms match whole words only, so "sex" never flags "Essex" and "rapist" never "therapist". A
word matches a term when both have the same letters once repeats are collapsed and the word
repeats each letter at least as often as the term: "seexx" is "sex", but "as" is not "ass".
``i`` and ``l`` count as one letter there, as leetspeak writes both as ``1``. Inside a
spelled-out run a term may start at any letter, since the run has lost its word breaks.

Libraries, imported on first use and never at import time (the API's cold start is tight):

* confusable-homoglyphs ships the Unicode Consortium's confusables table (UTS #39): the "looks
  like" relation we need. Transliterators answer "sounds like" instead and would read Cyrillic
  es (U+0441) as "s" and er (U+0440) as "r", where a reader sees "c" and "p".
* anyascii reduces the Latin letters that neither NFKD nor that table bring to ASCII (æ, œ, ŀ);
  only Latin ones, so Chinese or Japanese text is not romanised into syllables that could spell
  an English term by accident. Chosen over unidecode for coverage and its ISC licence (not GPL).
* pyahocorasick matches every term and phrase in one pass over the text.

The first call builds the automaton (a few milliseconds); the first text holding a non-ASCII
character loads the confusables table (about 35 ms). Both are then kept for the process.
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, groupby
from pathlib import Path
from typing import Any, NamedTuple

from chalicelib.once import built_once
from chalicelib.settings import get_settings

# Most severe first: a prompt that breaks several rules is refused for the worst.
SEVERITY = ("illegal", "sexual", "hateful", "violent")
DEFAULT_POLICY_PATH = Path(__file__).resolve().parent.parent / "policy" / "prompt_terms.json"

# Leetspeak, read only in words with a letter: "1488" stays a number, "s3x" becomes "sex".
_LEET = dict(zip("01345789@$!|+€", "oieastbgasilte", strict=True))
_LEET_TABLE = str.maketrans(_LEET)
_RUN = re.compile(r"[a-z0-9@$!|+€]+")
_LETTER = re.compile(r"[a-z]")
_REPEATS = re.compile(r"([a-z])\1{2,}")
# An apostrophe inside a word ("assassin's") belongs to the word; it must not leave an "s"
# behind that could join a spelled-out run.
_APOSTROPHE = re.compile("(?<=[a-z0-9])['`\u2018\u2019\u02bc](?=[a-z])")


@dataclass(frozen=True)
class Verdict:
    """The outcome of screening: allowed, or the category a refusal names and the term behind it."""

    category: str | None
    matched: str | None

    @property
    def allowed(self) -> bool:
        """True when the prompt may be generated."""
        return self.category is None


ALLOWED = Verdict(category=None, matched=None)


# Internal records are NamedTuples: a dataclass costs about five times as much to define, and
# this module is imported on the API's cold path.
class _Entry(NamedTuple):
    kind: str  # "term", "allow" or "near" (a word of a combination)
    category: str
    term: str  # as the data spells it once normalised, for logs and moderators
    size: int  # length of the automaton key
    runs: tuple[int, ...]  # per key character, how often the term repeats it (0 for spaces)
    prefix: bool
    combination: int = -1
    side: int = -1


class _Policy(NamedTuple):
    automaton: Any  # ahocorasick.Automaton, untyped
    combinations: tuple[tuple[str, int], ...]  # (category, within) in the data's order


class _Haystack(NamedTuple):
    text: str
    runs: list[int]
    spelled: list[bool]
    word_of: list[int]


@built_once
def _confusables() -> dict[str, str]:
    """Every character the confusables table says imitates one ASCII letter or digit."""
    from confusable_homoglyphs import confusables

    table: dict[str, str] = {}
    for char, entries in confusables.confusables_data.items():
        if len(char) != 1:
            continue
        for entry in entries:
            glyph = _strip_marks(entry["c"].replace("\u200e", ""))
            # The table lists each pair from both sides; keep only non-ASCII -> ASCII.
            if char.isascii() and len(glyph) == 1 and not glyph.isascii() and char.isalnum():
                table.setdefault(glyph, char.lower())
            elif not char.isascii() and len(glyph) == 1 and glyph.isascii() and glyph.isalnum():
                table.setdefault(char, glyph.lower())
    return table


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))


@lru_cache(maxsize=16384)
def _fold_char(char: str) -> str:
    """One character of NFKC-casefolded text as the ASCII the matcher reads ('' = delete)."""
    if char.isspace():
        return " "
    if char.isascii():
        return char if char.isprintable() else ""
    if unicodedata.category(char)[0] in "CM":  # invisible, control, unassigned, stray marks
        return ""
    out = []
    for part in _strip_marks(_confusables().get(char, char)):
        if not part.isascii() and unicodedata.name(part, "").startswith("LATIN"):
            from anyascii import anyascii

            part = anyascii(part).lower()
        out.append(part)
    return "".join(out)


def _word(raw: str) -> str:
    if _LETTER.search(raw):
        return _REPEATS.sub(r"\1\1", raw.translate(_LEET_TABLE))
    return "".join(c for c in raw if c.isdigit())  # numbers stay numbers: "1080", "1488"


def _words(text: str) -> list[tuple[str, bool]]:
    """The words of a text, each with whether it was spelled out letter by letter."""
    folded = "".join(map(_fold_char, unicodedata.normalize("NFKC", text).casefold()))
    folded = _APOSTROPHE.sub("", folded)
    words: list[tuple[str, bool]] = []
    singles: list[str] = []

    def flush() -> None:
        if len(singles) >= 2 and any(c.isalpha() for c in singles):
            words.append((_word("".join(singles)), True))
        else:
            words.extend((w, False) for w in map(_word, singles) if w)
        singles.clear()

    for match in _RUN.finditer(folded):
        raw = match.group().strip("!+")  # "wow!" ends a sentence; it is not "wowi"
        word = raw if len(raw) == 1 else _word(raw)
        if len(word) == 1 and (word.isalpha() or word in _LEET):
            singles.append(word)
        elif word:  # a lone "@@" reads as nothing and must not break a spelled run
            flush()
            words.append((_word(word), False))
    flush()
    return words


def normalise(text: str) -> str:
    """The text as the matcher reads it: normalised words separated by single spaces."""
    return " ".join(word for word, _ in _words(text))


def _skeleton(word: str) -> tuple[str, list[int]]:
    """A word's letters with repeats collapsed, and how often each was repeated."""
    groups = [(letter, len(list(run))) for letter, run in groupby(word.replace("l", "i"))]
    return "".join(g[0] for g in groups), [g[1] for g in groups]


def _haystack(words: list[tuple[str, bool]]) -> _Haystack:
    # Padded with spaces so every whole word has a space on both sides.
    hay = _Haystack(text=" ", runs=[0], spelled=[False], word_of=[-1])
    parts = [" "]
    for index, (word, spelled) in enumerate(words):
        letters, runs = _skeleton(word)
        parts.append(letters + " ")
        hay.runs.extend([*runs, 0])
        hay.spelled.extend([spelled] * len(letters) + [False])
        hay.word_of.extend([index] * (len(letters) + 1))
    return hay._replace(text="".join(parts))


def _fits(hay: _Haystack, entry: _Entry, start: int, end: int) -> bool:
    """Whether a key found at start..end is the term: whole words, letters repeated enough."""
    if hay.text[start - 1] != " " and not hay.spelled[start - 1]:
        return False
    if not entry.prefix and hay.text[end + 1] != " " and not hay.spelled[end + 1]:
        return False
    return all(hay.runs[start + i] >= need for i, need in enumerate(entry.runs))


def _entries_for(term: str, **fields: Any) -> tuple[str, _Entry]:
    prefix = term.endswith("*")
    words = _words(term.removesuffix("*"))
    if not words:
        raise ValueError(f"policy term {term!r} is empty once normalised")
    skeletons = [_skeleton(word) for word, _ in words]
    key = " ".join(letters for letters, _ in skeletons)
    runs = [n for i, (_, r) in enumerate(skeletons) for n in ([0] if i else []) + r]
    name = " ".join(word for word, _ in words) + ("*" if prefix else "")
    entry = _Entry(term=name, size=len(key), runs=tuple(runs), prefix=prefix, **fields)
    return key, entry


def _load(path: Path) -> _Policy:
    import ahocorasick

    data = json.loads(path.read_text(encoding="utf-8"))
    terms: dict[str, list[str]] = data.get("terms", {})
    unknown = set(terms) - set(SEVERITY)
    if unknown:
        raise ValueError(f"{path}: unknown categories {sorted(unknown)}")
    found: list[tuple[str, _Entry]] = []
    for category, words in terms.items():
        found += [_entries_for(w, kind="term", category=category) for w in words]
    combinations = []
    for number, rule in enumerate(data.get("combinations", [])):
        if rule["category"] not in SEVERITY or len(rule["near"]) != 2:
            raise ValueError(f"{path}: combination {number} needs a category and two lists")
        combinations.append((rule["category"], int(rule["within"])))
        for side, words in enumerate(rule["near"]):
            for word in words:
                expanded = terms.get(word[1:], []) if word.startswith("@") else [word]
                found += [
                    _entries_for(
                        w, kind="near", category=rule["category"], combination=number, side=side
                    )
                    for w in expanded
                ]
    found += [_entries_for(p, kind="allow", category="") for p in data.get("allow", [])]

    by_key: dict[str, list[_Entry]] = {}
    for key, entry in found:
        by_key.setdefault(key, []).append(entry)
    automaton = ahocorasick.Automaton()
    for key, entries in by_key.items():
        automaton.add_word(key, tuple(entries))
    automaton.make_automaton()
    return _Policy(automaton=automaton, combinations=tuple(combinations))


@built_once
def _policy() -> _Policy:
    """The policy of this process, built once on first use."""
    return _load(Path(get_settings().prompt_policy_path or DEFAULT_POLICY_PATH))


def _screen(policy: _Policy, text: str) -> list[tuple[str, int, str]]:
    """(category, position, term) of every policy match in one text."""
    hay = _haystack(_words(text))
    hits: list[tuple[_Entry, int, int]] = []
    reach = [-1] * len(hay.text)  # the furthest end of an allowed phrase starting here
    for end, entries in policy.automaton.iter(hay.text):
        for entry in entries:
            start = end - entry.size + 1
            if not _fits(hay, entry, start, end):
                continue
            if entry.kind == "allow":
                reach[start] = max(reach[start], end)
            else:
                hits.append((entry, start, end))
    # A hit lies inside an allowed phrase when one starting at or before it reaches its end.
    reach = list(accumulate(reach, max))
    kept = [(entry, start) for entry, start, end in hits if reach[start] < end]

    found = [(e.category, start, e.term) for e, start in kept if e.kind == "term"]
    for number, (category, within) in enumerate(policy.combinations):
        near = [(start, e.side, e.term) for e, start in kept if e.combination == number]
        pair = _first_pair(hay, sorted(near), within)
        if pair is not None:
            found.append((category, *pair))
    return found


def _first_pair(
    hay: _Haystack, near: list[tuple[int, int, str]], within: int
) -> tuple[int, str] | None:
    """The earliest word of a combination with a word of its other list close enough."""
    sides: tuple[list[tuple[int, str]], ...] = ([], [])
    for start, side, term in near:
        sides[side].append((hay.word_of[start], term))
    for start, side, term in near:
        here, others = hay.word_of[start], sides[1 - side]
        i = bisect_left(others, (here - within,))
        if i < len(others) and others[i][0] <= here + within:
            first, second = (term, others[i][1]) if side == 0 else (others[i][1], term)
            return start, f"{first} + {second}"
    return None


def screen_prompt(*texts: str) -> Verdict:
    """Screen a prompt and its negative prompt together.

    Each text is screened on its own (a phrase never spans two texts). The verdict names the
    most severe category found (illegal > sexual > hateful > violent) and, within it, the first
    match in reading order; ``Verdict.allowed`` is true when nothing matched.
    """
    policy = _policy()
    found = [
        (SEVERITY.index(category), number, position, category, term)
        for number, text in enumerate(texts)
        for category, position, term in _screen(policy, text)
    ]
    if not found:
        return ALLOWED
    # Ties go to the earlier entry: a listed phrase is named rather than a combination.
    *_, category, term = min(found, key=lambda f: f[:3])
    return Verdict(category=category, matched=term)


def refusal(text: str, what: str = "prompt") -> tuple[str, str] | None:
    """(the message a refused text is answered with, the category), or None when the screen
    allows it: one wording for every text the screen reads (a prompt, a display name)."""
    verdict = screen_prompt(text)
    if verdict.allowed or verdict.category is None:
        return None
    return f"The {what} breaks the content policy ({verdict.category}).", verdict.category
