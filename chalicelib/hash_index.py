"""Multi-index hashing of 256-bit PDQ hashes in DynamoDB: the one home of the band split and
the band look-up that the provenance fingerprints (`models/fingerprints.py`) and the blocked
hash lists (`models/blocked_hashes.py`) share.

A hash is cut into 16 bands of 16 bits. A table indexed this way holds one item per band of
each hash: partition key `"{band:02d}#{value:04x}"`, the whole hash on the item, so the caller
measures the true distance from the Query's answer alone.

What a look-up finds, by the pigeonhole principle: two hashes `d` bits apart differ in at
most `d` of the 16 bands, and spread over 16 bands, at least one band differs in at most
`d // 16` bits. So
- probing each band's own value (16 Queries) finds every stored hash within 15 bits;
- probing each band's value and the 16 values one bit away from it (16 x 17 = 272 Queries)
  finds every stored hash within 31 bits (PDQ's customary match threshold), since within 31
  some band differs in at most one bit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from chalicelib.once import built_once

BITS = 256
BANDS = 16
BAND_BITS = BITS // BANDS
HEX_DIGITS = BITS // 4
# Queries a look-up sends at once (the models' max_pool_connections match it).
PARALLEL_QUERIES = 16

T = TypeVar("T")


def bands(bits: int) -> list[int]:
    """The 16 bands of a hash, most significant first."""
    mask = (1 << BAND_BITS) - 1
    return [(bits >> (BITS - BAND_BITS * (n + 1))) & mask for n in range(BANDS)]


def band_key(band: int, value: int) -> str:
    return f"{band:02d}#{value:04x}"


def band_keys(bits: int) -> list[str]:
    """The partitions a hash is stored under: one per band."""
    return [band_key(n, value) for n, value in enumerate(bands(bits))]


def probe_keys(bits: int, radius: int) -> list[str]:
    """The partitions a look-up reads to find every stored hash within
    `BANDS * (radius + 1) - 1` bits: each band's value and, with radius 1, its 16 neighbours
    one bit away (radius 0 or 1)."""
    if radius not in (0, 1):
        raise ValueError("radius must be 0 or 1")
    keys: list[str] = []
    for n, value in enumerate(bands(bits)):
        keys.append(band_key(n, value))
        if radius:
            keys.extend(band_key(n, value ^ (1 << bit)) for bit in range(BAND_BITS))
    return keys


def guaranteed_distance(radius: int) -> int:
    """The largest distance at which a look-up with `radius` finds every stored hash."""
    return BANDS * (radius + 1) - 1


def distance(a: int, b: int) -> int:
    """Hamming distance of two hashes."""
    return (a ^ b).bit_count()


def parse_hex(text: str) -> int:
    """A PDQ hash written as 64 hexadecimal digits; ValueError otherwise."""
    cleaned = text.strip().lower()
    if len(cleaned) != HEX_DIGITS or any(c not in "0123456789abcdef" for c in cleaned):
        raise ValueError(f"a PDQ hash is {HEX_DIGITS} hexadecimal digits, not {text.strip()!r}")
    return int(cleaned, 16)


@built_once
def _pool() -> ThreadPoolExecutor:
    # Kept for the life of the process: a warm function reuses its threads and connections.
    return ThreadPoolExecutor(max_workers=PARALLEL_QUERIES, thread_name_prefix="hash-band")


def query_partitions(query: Callable[[str], Iterable[T]], keys: Iterable[str]) -> Iterator[T]:
    """The items of every partition in `keys`, read PARALLEL_QUERIES at once (in key order)."""
    for items in _pool().map(lambda key: list(query(key)), keys):
        yield from items
