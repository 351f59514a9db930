"""`objektify hashlist import FILE` against AWS (moto in this process): it says how many hashes
it imported, refuses a bad list by its line with nothing written, and importing again changes
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.models.blocked_hashes import BlockedHash
from chalicelib.services import hash_lists
from chalicelib.services.hash_lists import HashMatch
from objektify.cli import main
from tests.support.in_process_aws import aws

ROWS = [f"{n:064x}" for n in (0x1F2E3D4C << 200, 0x0A0B0C0D << 120, (1 << 256) - 12345)]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # No local stack here: the command uses AWS as the environment configures it (moto).
    monkeypatch.setenv("OBJEKTIFY_LOCAL_DIR", str(tmp_path / "no-stack"))
    with aws():
        yield tmp_path


def test_an_import_says_how_many_and_again_changes_nothing(
    world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = world / "Partner PDQ.csv"
    text = "pdq_hash,id,timestamp,tags\n" + "".join(
        f"{r},{n},1700000000,x\n" for n, r in enumerate(ROWS)
    )
    path.write_text(text, encoding="utf-8")
    assert main(["hashlist", "import", str(path), "--category", "sexual"]) == 0
    said = capsys.readouterr().out
    assert "3 PDQ hashes imported into list 'partner-pdq' (category sexual)" in said
    stored = {(i.band_key, i.entry_id) for i in BlockedHash.scan()}
    assert len(stored) == 3 * 16
    assert main(["hashlist", "import", str(path), "--category", "sexual"]) == 0
    assert "3 PDQ hashes imported" in capsys.readouterr().out
    assert {(i.band_key, i.entry_id) for i in BlockedHash.scan()} == stored
    assert hash_lists.find_match(ROWS[1]) == HashMatch("sexual", "partner-pdq")


def test_a_bad_row_is_named_and_nothing_is_imported(
    world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = world / "list.csv"
    path.write_text(f"{ROWS[0]}\n{ROWS[1]}\n{ROWS[2][:-1]}z\n", encoding="utf-8")
    assert main(["hashlist", "import", str(path), "--list", "ncmec"]) == 2
    said = capsys.readouterr()
    assert "line 3" in said.err and "nothing was imported" in said.err
    assert said.out == ""
    assert list(BlockedHash.scan()) == []


def test_a_bad_category_or_a_missing_file_is_refused(
    world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = world / "list.csv"
    path.write_text(ROWS[0] + "\n", encoding="utf-8")
    assert main(["hashlist", "import", str(path), "--category", "Not A Category"]) == 2
    assert "category" in capsys.readouterr().err
    assert main(["hashlist", "import", str(world / "absent.csv")]) == 2
    assert "absent.csv" in capsys.readouterr().err
    assert list(BlockedHash.scan()) == []
