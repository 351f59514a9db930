"""Hash lists: PDQ hashes an upload is refused for.

Two kinds of entry share one table (`models/blocked_hashes.py`):
- hashes an operator imported from a hash-sharing programme's list (`objektify hashlist
  import FILE`, the ThreatExchange / Hasher-Matcher-Actioner CSV of PDQ hashes), each under
  the list's name and a category;
- the fingerprints of images this service removed (a moderator's decision) or rejected (the
  automated scan), under `IMAGES_LIST` with the decision's category. An appeal that reverses the
  decision takes the image's entry away again.

The match threshold: `MATCH_DISTANCE` = 31 of 256 bits, PDQ's customary threshold for "the same
picture" (re-encoding, resizing and light edits stay well within it; unrelated photographs sit
near 128). A look-up is guaranteed to find every entry within 31 bits, not only those sharing a
band exactly: it reads each of the 16 bands' partitions and the 16 partitions one bit away from
each (272 Queries, 16 at once; see `chalicelib/hash_index.py` for why that suffices). A hash at
31 bits matches; at 32 it does not, whatever bands it shares.

Allowances: when an appeal reverses an upload's rejection for a list match, the upload's
hash is entered under `ALLOWED_LIST` (`allow`) with the entries it matched then. A later query
within `ALLOW_DISTANCE` (8) bits of an allowed hash no longer matches those entries: the same
picture, re-encoded or resized, is not refused again for the match a person found false; any
other entry (one listed later included) still matches, and the image scanner still runs.

What it does not do: crops, rotations, flips and collages beyond a few percent move PDQ far
past 31 bits; a list match is evidence for a person to confirm (the upload is kept in
quarantine), not proof. Low-quality hashes (flat images, PDQ's quality under
`fingerprints.MIN_QUALITY`) are never looked up: they sit near each other whatever the picture.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from chalicelib import hash_index
from chalicelib.adapters import clock
from chalicelib.models.blocked_hashes import BlockedHash
from chalicelib.services import audit

MATCH_DISTANCE = 31
PROBE_RADIUS = 1  # each band's value and its neighbours one bit away: 31 is guaranteed
assert hash_index.guaranteed_distance(PROBE_RADIUS) >= MATCH_DISTANCE
# The list the images this service removed or rejected are entered in.
IMAGES_LIST = "decisions"
# The fingerprints of uploads whose hash-list rejection an appeal reversed (`allow`).
ALLOWED_LIST = "allowed"
ALLOWED_CATEGORY = "allowed"
# How near a query must be to an allowed hash for the allowance to apply: a re-encoded or
# resized copy of the same picture (a few bits), well inside MATCH_DISTANCE, so a different
# picture that happens to sit near the listed hash is still refused.
ALLOW_DISTANCE = 8
RESERVED_LISTS = (IMAGES_LIST, ALLOWED_LIST)
DEFAULT_CATEGORY = "illegal"
LIST_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
CATEGORY = re.compile(r"^[a-z][a-z_]{0,31}$")
# Column names hash-sharing exports give the PDQ hash (a header is optional).
HASH_COLUMNS = ("pdq", "pdq_hash", "hash", "signal_value", "signal", "indicator")
QUALITY_COLUMNS = ("quality", "pdq_quality")
TYPE_COLUMNS = ("signal_type", "type", "indicator_type")
PDQ_TYPES = ("pdq", "hash_pdq", "pdq_hash")
# Rows beyond this are refused, whole file: a list is imported in one go.
MAX_ROWS = 5_000_000


@dataclass(frozen=True)
class HashMatch:
    """What an upload matched: the category its owner is told, and (never shown to users) the
    list that holds it (an imported list's name, or IMAGES_LIST)."""

    category: str
    source: str


@dataclass(frozen=True)
class ListedHash:
    bits: int
    quality: int | None

    @property
    def hex(self) -> str:
        return f"{self.bits:064x}"


class HashListError(ValueError):
    """A list that cannot be imported: what is wrong, and on which line."""


# Look-up -------------------------------------------------------------------------------


def _partition(key: str) -> list[BlockedHash]:
    return list(BlockedHash.query(key))


def _near(bits: int) -> list[tuple[int, BlockedHash]]:
    """Every entry within MATCH_DISTANCE of the hash (and some beyond), with its distance."""
    return [
        (hash_index.distance(bits, int(item.pdq, 16)), item)
        for item in hash_index.query_partitions(
            _partition, hash_index.probe_keys(bits, PROBE_RADIUS)
        )
    ]


def find_match(pdq_hex: str, max_distance: int = MATCH_DISTANCE) -> HashMatch | None:
    """The nearest entry within `max_distance` bits (at most MATCH_DISTANCE, where the look-up
    is guaranteed complete) of the hash, or None. Of entries equally near, the most severe
    category wins, then an imported list over the service's own decisions. An entry that an
    allowance within ALLOW_DISTANCE of the query covers is passed over (see `allow`)."""
    from chalicelib.services.lifecycle import REPORTED_RANK, SEVERITY

    if max_distance > MATCH_DISTANCE:
        raise ValueError(f"the look-up finds everything only within {MATCH_DISTANCE} bits")
    bits = hash_index.parse_hex(pdq_hex)
    best: tuple[int, int, int, str] | None = None
    found: HashMatch | None = None
    near = _near(bits)
    # Entries an allowance near the query covers: a person found these very matches false.
    covered: set[str] = set()
    for apart, item in near:
        if item.list_name == ALLOWED_LIST and apart <= ALLOW_DISTANCE:
            covered |= set(item.allows or ())
    for apart, item in near:
        if apart > max_distance or item.list_name == ALLOWED_LIST or item.entry_id in covered:
            continue
        rank = (
            apart,
            SEVERITY.get(item.category, REPORTED_RANK),
            1 if item.list_name == IMAGES_LIST else 0,
            item.entry_id,
        )
        if best is None or rank < best:
            best, found = rank, HashMatch(item.category, item.list_name)
    return found


# The service's own decisions -------------------------------------------------------------


def _image_items(image_id: str, bits: int, category: str) -> list[BlockedHash]:
    now = clock.now()
    return [
        BlockedHash(
            key,
            f"image#{image_id}",
            pdq=f"{bits:064x}",
            list_name=IMAGES_LIST,
            category=category,
            image_id=image_id,
            added_at=now,
        )
        for key in hash_index.band_keys(bits)
    ]


def block_image(image_id: str, pdq_hex: str, category: str) -> None:
    """Uploads near an image this service removed or rejected are refused with `category`.
    Its 16 items in one batch; blocking it again writes the same items (a retried removal or
    scan converges)."""
    bits = hash_index.parse_hex(pdq_hex)
    with BlockedHash.batch_write() as batch:
        for item in _image_items(image_id, bits, category or "other"):
            batch.save(item)


def unblock_image(image_id: str, pdq_hex: str) -> None:
    """An appeal reversed the decision: uploads near the image are no longer refused for it
    (entries of imported lists stay). Harmless when there is nothing to remove."""
    bits = hash_index.parse_hex(pdq_hex)
    with BlockedHash.batch_write() as batch:
        for key in hash_index.band_keys(bits):
            batch.delete(BlockedHash(key, f"image#{image_id}"))


def allow(pdq_hex: str) -> int:
    """An appeal reversed an upload's rejection for a hash-list match: the upload's fingerprint
    is recorded as allowed (16 items under ALLOWED_LIST, keyed by the hash alone: nothing names
    the upload or its owner), covering the entries it matches now (`allows`: their entry ids).
    Entries listed later are not covered: the appeal found these matches false, not any
    future one. Allowing it again writes the same items. Answers how many entries it covers
    (none: nothing is written)."""
    bits = hash_index.parse_hex(pdq_hex)
    covers = {
        item.entry_id
        for apart, item in _near(bits)
        if apart <= MATCH_DISTANCE and item.list_name != ALLOWED_LIST
    }
    if not covers:
        return 0
    now = clock.now()
    with BlockedHash.batch_write() as batch:
        for key in hash_index.band_keys(bits):
            batch.save(
                BlockedHash(
                    key,
                    f"allow#{bits:064x}",
                    pdq=f"{bits:064x}",
                    list_name=ALLOWED_LIST,
                    category=ALLOWED_CATEGORY,
                    allows=covers,
                    added_at=now,
                )
            )
    return len(covers)


# Imported lists ----------------------------------------------------------------------------


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    for index, name in enumerate(header):
        if name.strip().lower() in names:
            return index
    return None


def _looks_like_hash(text: str) -> bool:
    try:
        hash_index.parse_hex(text)
    except ValueError:
        return False
    return True


def parse_list(lines: Iterable[str]) -> list[ListedHash]:
    """Every PDQ hash of a hash-sharing list in CSV: one hash a row (64 hex digits), with an
    optional header row naming its columns (`hash`, `pdq`, `signal_value`…; `quality`;
    `signal_type`, whose rows must then be PDQ), any other columns (ids, timestamps, tags)
    ignored, blank lines and `#` comments skipped. Without a header the hash is the first
    column. The whole list is read before anything is written: a bad row raises HashListError
    naming its line, and nothing is imported. A hash listed twice counts once."""
    reader = csv.reader(lines)
    hash_at, quality_at, type_at = 0, None, None
    header_seen = False
    found: dict[int, ListedHash] = {}
    for row in reader:
        line = reader.line_num
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if not header_seen:
            header_seen = True
            if not _looks_like_hash(cells[0]) and len(cells[0]) != hash_index.HEX_DIGITS:
                named = _column(cells, HASH_COLUMNS)
                if named is None:
                    raise HashListError(
                        f"line {line}: neither a PDQ hash nor a header naming the hash column "
                        f"(one of {', '.join(HASH_COLUMNS)}): {','.join(cells)[:80]!r}"
                    )
                hash_at = named
                quality_at = _column(cells, QUALITY_COLUMNS)
                type_at = _column(cells, TYPE_COLUMNS)
                continue
        if len(found) >= MAX_ROWS:
            raise HashListError(f"line {line}: more than {MAX_ROWS} hashes in one list")
        if type_at is not None:
            kind = cells[type_at].lower() if type_at < len(cells) else ""
            if kind not in PDQ_TYPES:
                raise HashListError(f"line {line}: not a PDQ hash (signal type {kind!r})")
        if hash_at >= len(cells):
            raise HashListError(f"line {line}: no hash column (column {hash_at + 1})")
        try:
            bits = hash_index.parse_hex(cells[hash_at])
        except ValueError as exc:
            raise HashListError(f"line {line}: {exc}") from None
        quality = None
        if quality_at is not None and quality_at < len(cells) and cells[quality_at]:
            text = cells[quality_at]
            if not text.isdigit() or not 0 <= int(text) <= 100:
                raise HashListError(f"line {line}: quality must be 0-100, not {text!r}")
            quality = int(text)
        found.setdefault(bits, ListedHash(bits, quality))
    return list(found.values())


def check_names(list_name: str, category: str) -> None:
    if not LIST_NAME.match(list_name) or list_name in RESERVED_LISTS:
        raise HashListError(
            f"list name {list_name!r}: lower-case letters, digits, '.', '_' and '-', at most "
            f"64, and not {IMAGES_LIST!r} or {ALLOWED_LIST!r} (the service's own decisions "
            "and allowances)"
        )
    if not CATEGORY.match(category):
        raise HashListError(f"category {category!r}: lower-case letters and '_', at most 32")


def list_name_of(path: str | Path) -> str:
    """A list name from a file's name: `NCMEC PDQ 2026.csv` → `ncmec-pdq-2026`."""
    stem = re.sub(r"[^a-z0-9_.-]+", "-", Path(path).stem.lower()).strip("-.") or "list"
    return stem[:64]


def import_list(path: str | Path, list_name: str, category: str, actor: str = "operator") -> int:
    """Import a hash-sharing list (see parse_list) into the blocked hashes: every row is
    checked first, then written in batches of 25. Importing the same list again writes the
    same items (idempotent). Answers how many distinct hashes the list holds; the import is
    recorded in the audit log (by `actor`, with the list, category and count)."""
    check_names(list_name, category)
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as source:
            listed = parse_list(source)
    except UnicodeDecodeError as exc:
        raise HashListError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise HashListError(f"{path}: {exc.strerror or exc}") from None
    now = clock.now()
    with BlockedHash.batch_write() as batch:
        for entry in listed:
            for key in hash_index.band_keys(entry.bits):
                batch.save(
                    BlockedHash(
                        key,
                        f"list#{list_name}#{entry.hex}",
                        pdq=entry.hex,
                        list_name=list_name,
                        category=category,
                        quality=entry.quality,
                        added_at=now,
                    )
                )
    audit.record(
        audit.Event(
            actor,
            "import_hash_list",
            "hash_list",
            list_name,
            f"{len(listed)} PDQ hashes imported from {Path(path).name}",
            {"category": category, "hashes": len(listed)},
        )
    )
    return len(listed)


def parse_text(text: str) -> list[ListedHash]:
    """parse_list over a string (tests, small lists)."""
    return parse_list(io.StringIO(text))


def original_fingerprint(output_key: str | None) -> str | None:
    """The PDQ hash (hex) of a generation's private original, as the scan recorded it in the
    provenance fingerprints (the same computation on the same pixels), or None when there is
    no original or its hash is of low quality (a flat image: never blocked, never looked up)."""
    from botocore.exceptions import ClientError

    from chalicelib.adapters import storage
    from chalicelib.imaging import InvalidImage, verify
    from chalicelib.observability import logger
    from chalicelib.provenance import fingerprints
    from chalicelib.settings import get_settings

    if not output_key:
        return None
    settings = get_settings()
    try:
        data = storage.read(settings.originals_bucket, output_key, settings.max_output_bytes)
        found = fingerprints.compute(verify(data).image)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
            raise
        logger.warning("no original to fingerprint", extra={"key": output_key})
        return None
    except (InvalidImage, ValueError):
        logger.warning("original not fingerprinted", extra={"key": output_key})
        return None
    return found.hex if found.usable else None
