"""Identifiers: ULIDs (time-ordered, 26 characters of Crockford base32, 80 random bits)."""

from __future__ import annotations

import re
import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PATTERN = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def new_id(now_ms: int | None = None) -> str:
    value = ((now_ms if now_ms is not None else time.time_ns() // 1_000_000) << 80) | (
        secrets.randbits(80)
    )
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_id(text: str) -> bool:
    """True for a well-formed id: anything else (paths, key-injection characters) is not."""
    return bool(_PATTERN.fullmatch(text))
