"""Hash lists (issue 20): the match threshold at its boundary, whatever bands a hash shares;
the hash-sharing CSV, its bad rows and its re-import; images removed or rejected here blocked,
and unblocked when an appeal reverses the decision."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from chalicelib import hash_index, resources
from chalicelib.adapters import storage
from chalicelib.models.audit import AuditEntry
from chalicelib.models.blocked_hashes import BlockedHash
from chalicelib.models.generations import find
from chalicelib.provenance import credentials, fingerprints
from chalicelib.services import hash_lists, lifecycle
from chalicelib.services.hash_lists import HashListError, HashMatch
from chalicelib.settings import get_settings
from tests.support.in_process_aws import aws, consented_profile, painted, scanned

LISTED = 0x5A3C_96F0_0FF0_C3A5_1234_5678_9ABC_DEF0_0F1E_2D3C_4B5A_6978_8796_A5B4_C3D2_E1F0


def flipped(bits: int, per_band: list[int]) -> int:
    """`bits` with `per_band[n]` bits of band n flipped (the band's lowest ones)."""
    for band, count in enumerate(per_band):
        shift = hash_index.BITS - hash_index.BAND_BITS * (band + 1)
        for bit in range(count):
            bits ^= 1 << (shift + bit)
    return bits


def hexed(bits: int) -> str:
    return f"{bits:064x}"


@pytest.fixture(scope="module")
def world() -> Iterator[None]:
    with aws():
        yield


@pytest.fixture
def empty(world: None) -> Iterator[None]:
    yield
    with BlockedHash.batch_write() as batch:
        for item in BlockedHash.scan():
            batch.delete(item)


def write_list(tmp_path: Path, text: str, name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# The threshold --------------------------------------------------------------------------


@given(st.sets(st.integers(min_value=0, max_value=255), max_size=hash_lists.MATCH_DISTANCE))
def test_every_hash_within_the_threshold_shares_a_probed_partition(flips: set[int]) -> None:
    other = LISTED
    for bit in flips:
        other ^= 1 << bit
    assert set(hash_index.probe_keys(other, hash_lists.PROBE_RADIUS)) & set(
        hash_index.band_keys(LISTED)
    )


def test_the_threshold_is_31_bits_with_no_band_in_common(empty: None, tmp_path: Path) -> None:
    hash_lists.import_list(write_list(tmp_path, hexed(LISTED) + "\n"), "ncmec", "illegal")
    # 31 bits apart, every band differing (two bits in 15 bands, one in the last): found.
    at_threshold = flipped(LISTED, [2] * 15 + [1])
    assert hash_index.distance(LISTED, at_threshold) == 31
    assert not set(hash_index.band_keys(at_threshold)) & set(hash_index.band_keys(LISTED))
    assert hash_lists.find_match(hexed(at_threshold)) == HashMatch("illegal", "ncmec")
    # 32 bits apart: not a match, spread over every band or packed into two whole bands.
    for beyond in (flipped(LISTED, [2] * 16), flipped(LISTED, [16, 16] + [0] * 14)):
        assert hash_index.distance(LISTED, beyond) == 32
        assert hash_lists.find_match(hexed(beyond)) is None
    assert hash_lists.find_match(hexed(LISTED)) == HashMatch("illegal", "ncmec")
    with pytest.raises(ValueError):
        hash_lists.find_match(hexed(LISTED), max_distance=32)


def test_the_nearest_entry_wins_then_the_most_severe(empty: None, tmp_path: Path) -> None:
    near = flipped(LISTED, [1] + [0] * 15)
    hash_lists.import_list(write_list(tmp_path, hexed(LISTED), "a.csv"), "violence", "violent")
    hash_lists.import_list(write_list(tmp_path, hexed(near), "b.csv"), "other-list", "hateful")
    assert hash_lists.find_match(hexed(near)) == HashMatch("hateful", "other-list")
    hash_lists.block_image("IMAGE1", hexed(LISTED), "sexual")
    # Equally near: sexual ranks above violent.
    assert hash_lists.find_match(hexed(LISTED)) == HashMatch("sexual", "decisions")


# Allowances -------------------------------------------------------------------------------


def test_an_allowed_hash_suppresses_the_match_a_person_found_false(
    empty: None, tmp_path: Path
) -> None:
    """The rule: a query within ALLOW_DISTANCE (8) bits of an allowed hash no longer matches
    the entries the allowance covers (those it matched when allowed); others still match."""
    upload = flipped(LISTED, [1] * 16)  # the falsely matched upload: 16 bits from the listed
    hash_lists.import_list(write_list(tmp_path, hexed(LISTED)), "ncmec", "illegal")
    assert hash_lists.find_match(hexed(upload)) == HashMatch("illegal", "ncmec")
    assert hash_lists.allow(hexed(upload)) == 1
    assert hash_lists.allow(hexed(upload)) == 1  # again: the same items
    assert hash_lists.find_match(hexed(upload)) is None
    # A re-encoded copy, 8 bits from the allowed hash (and 24 from the listed): allowed too.
    copy = flipped(upload, [0] * 8 + [1] * 8)
    assert hash_index.distance(copy, upload) == 8
    assert hash_lists.find_match(hexed(copy)) is None
    # 9 bits from the allowed hash: another picture, refused as before.
    other = flipped(upload, [0] * 7 + [1] * 9)
    assert hash_index.distance(other, upload) == 9
    assert hash_index.distance(other, LISTED) <= hash_lists.MATCH_DISTANCE
    assert hash_lists.find_match(hexed(other)) == HashMatch("illegal", "ncmec")
    # The listed picture itself is still refused (it is 16 bits from the allowed hash).
    assert hash_lists.find_match(hexed(LISTED)) == HashMatch("illegal", "ncmec")


def test_an_allowance_leaves_entries_listed_later(empty: None, tmp_path: Path) -> None:
    upload = flipped(LISTED, [1] * 16)
    assert hash_lists.allow(hexed(upload)) == 0  # nothing to cover: nothing written
    hash_lists.import_list(write_list(tmp_path, hexed(LISTED)), "ncmec", "illegal")
    hash_lists.allow(hexed(upload))
    assert hash_lists.find_match(hexed(upload)) is None
    # An entry listed after the allowance, 20 bits from the upload: a match.
    second = upload
    for band in range(4):  # five bits of each of four bands, none of those upload flipped
        shift = hash_index.BITS - hash_index.BAND_BITS * (band + 1)
        for bit in range(1, 6):
            second ^= 1 << (shift + bit)
    assert hash_index.distance(second, upload) == 20
    assert hash_index.distance(second, LISTED) > hash_lists.MATCH_DISTANCE
    hash_lists.block_image("IMAGE2", hexed(second), "violent")
    assert hash_lists.find_match(hexed(upload)) == HashMatch("violent", "decisions")
    # An allowed hash alone is no match.
    with BlockedHash.batch_write() as batch:
        for key in hash_index.band_keys(second):
            batch.delete(BlockedHash(key, "image#IMAGE2"))
    assert hash_lists.find_match(hexed(flipped(upload, [1] + [0] * 15))) is None


# The CSV ----------------------------------------------------------------------------------


def test_a_threatexchange_export_with_header_ids_quality_and_tags_is_read() -> None:
    other = flipped(LISTED, [16] * 16)
    text = (
        "pdq_hash,id,timestamp,quality,tags\n"
        f"{hexed(LISTED)},2862392437204724,1612980934,100,media_type_photo\n"
        "\n"
        "# a comment\n"
        f"{hexed(other).upper()},2862392437204725,1612980935,,\n"
        f"{hexed(LISTED)},2862392437204726,1612980936,90,dup\n"
    )
    listed = hash_lists.parse_text(text)
    assert [(e.hex, e.quality) for e in listed] == [(hexed(LISTED), 100), (hexed(other), None)]


def test_a_bare_list_and_a_signal_type_list_are_read() -> None:
    assert [e.bits for e in hash_lists.parse_text(f"{hexed(LISTED)} \n")] == [LISTED]
    text = f"signal_type,signal_value,tags\npdq,{hexed(LISTED)},x\n"
    assert [e.bits for e in hash_lists.parse_text(text)] == [LISTED]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (f"hash,tags\n{'0' * 64},a\n{'g' * 64},b\n", "line 3: a PDQ hash is 64 hexadecimal"),
        (f"{'a' * 64}\n{'a' * 63}\n", "line 2: a PDQ hash is 64"),
        ("id,tags\n1,a\n", "line 1: neither a PDQ hash nor a header"),
        (f"hash,quality\n{'a' * 64},101\n", "line 2: quality must be 0-100"),
        (f"signal_type,signal_value\npdq,{'a' * 64}\nmd5,{'b' * 32}\n", "line 3: not a PDQ hash"),
        (f"signal_value,tags\n{'a' * 64},x\n,y\n", "line 3: a PDQ hash is 64"),
    ],
)
def test_a_bad_row_is_refused_with_its_line(text: str, said: str) -> None:
    with pytest.raises(HashListError, match=said):
        hash_lists.parse_text(text)


def test_a_list_with_a_bad_row_imports_nothing(empty: None, tmp_path: Path) -> None:
    rows = [hexed(flipped(LISTED, [16] * n + [0] * (16 - n))) for n in range(10)]
    path = write_list(tmp_path, "\n".join([*rows, "not-a-hash", *rows]) + "\n")
    with pytest.raises(HashListError, match="line 11"):
        hash_lists.import_list(path, "ncmec", "illegal")
    assert list(BlockedHash.scan()) == []


@pytest.mark.parametrize(
    ("list_name", "category"),
    [
        ("Bad Name", "illegal"),
        ("decisions", "illegal"),
        ("allowed", "illegal"),
        ("ok", "Illegal!"),
        ("a#b", "illegal"),
    ],
)
def test_list_names_and_categories_are_checked(list_name: str, category: str) -> None:
    with pytest.raises(HashListError):
        hash_lists.check_names(list_name, category)


def test_an_import_again_is_idempotent_and_audited(empty: None, tmp_path: Path) -> None:
    rng = random.Random(20)
    rows = [f"{rng.getrandbits(256):064x}" for _ in range(40)]
    path = write_list(tmp_path, "hash\n" + "\n".join(rows) + "\n")
    before = {(e.target_id, e.action) for e in AuditEntry.scan()}
    assert hash_lists.import_list(path, "partner-list", "sexual") == 40
    stored = {(i.band_key, i.entry_id) for i in BlockedHash.scan()}
    assert len(stored) == 40 * hash_index.BANDS
    assert hash_lists.import_list(path, "partner-list", "sexual") == 40
    assert {(i.band_key, i.entry_id) for i in BlockedHash.scan()} == stored
    assert all(i.category == "sexual" and i.image_id is None for i in BlockedHash.scan())
    imports = [e for e in AuditEntry.scan() if (e.target_id, e.action) not in before]
    assert [(e.action, e.target_type, e.target_id) for e in imports] == [
        ("import_hash_list", "hash_list", "partner-list")
    ] * 2
    assert imports[0].details.as_dict() == {"category": "sexual", "hashes": 40}
    assert hash_lists.find_match(rows[7]) == HashMatch("sexual", "partner-list")


def test_a_list_name_comes_from_its_file_name() -> None:
    assert hash_lists.list_name_of("/tmp/NCMEC PDQ 2026.csv") == "ncmec-pdq-2026"


# Images removed or rejected here -----------------------------------------------------------


def textured_png(seed: int) -> bytes:
    noise = np.random.default_rng(seed).random((128, 128, 3)) * 255
    image = Image.fromarray(noise.astype(np.uint8), "RGB").resize(
        (512, 512), Image.Resampling.BICUBIC
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def painted_textured(seed: int) -> tuple[str, str]:
    """A generation whose output has texture (PDQ of good quality), and that output's hash."""
    creator = consented_profile(f"creator-{seed}")
    image_id = painted(creator, f"a field of poppies {seed}")
    data = textured_png(seed)
    settings = get_settings()
    key = resources.output_key(image_id)
    storage.put_bytes(settings.originals_bucket, key, data, "image/png")
    found = fingerprints.compute(Image.open(io.BytesIO(data)))
    assert found.usable
    return image_id, found.hex


@pytest.fixture
def unsigned(monkeypatch: pytest.MonkeyPatch) -> None:
    # About the hash, not the manifests (signing is tested in test_content_credentials.py).
    monkeypatch.setattr(credentials, "signed_copies", lambda made, verified, image_id, **_: made)


def test_a_rejected_output_is_blocked_with_its_category(empty: None, unsigned: None) -> None:
    image_id, pdq = painted_textured(1)
    assert scanned(image_id, "reject") == "rejected"
    category = find(image_id).category  # type: ignore[union-attr]
    assert hash_lists.find_match(pdq) == HashMatch(str(category), hash_lists.IMAGES_LIST)
    items = [i for i in BlockedHash.scan() if i.image_id == image_id]
    assert len(items) == hash_index.BANDS


def test_a_removal_blocks_the_image_and_a_reversal_unblocks_it(empty: None, unsigned: None) -> None:
    image_id, pdq = painted_textured(2)
    assert scanned(image_id, "publish") == "published"
    assert hash_lists.find_match(pdq) is None
    generation = find(image_id)
    assert generation is not None
    lifecycle.remove(generation, "moderator-1", "not allowed here", "sexual")
    assert hash_lists.find_match(pdq) == HashMatch("sexual", hash_lists.IMAGES_LIST)
    # A retried removal (the transaction was in) writes the same items again.
    lifecycle.remove(find(image_id), "moderator-1", "not allowed here", "sexual")  # type: ignore[arg-type]
    assert len([i for i in BlockedHash.scan() if i.image_id == image_id]) == hash_index.BANDS
    lifecycle.reverse(find(image_id), "moderator-2", "appeal upheld", "decision-1")  # type: ignore[arg-type]
    assert find(image_id).status == "published"  # type: ignore[union-attr]
    assert hash_lists.find_match(pdq) is None
