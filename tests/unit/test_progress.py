"""Long operator work shows its progress (objektify/progress.py): a bar on a terminal, and off
one (a log, a pipe) a plain line every few seconds with count, rate and time left, and a last
line at the end."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from objektify.progress import INTERVAL_VARIABLE, progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_a_line_every_interval_with_count_rate_and_time_left() -> None:
    out, clock = io.StringIO(), FakeClock()
    with progress(
        "dataset export", total=5000, unit="records", stream=out, interval=5, clock=clock
    ) as meter:
        for _ in range(12):
            clock.now += 1
            meter.advance(200)
    assert out.getvalue().splitlines() == [
        "dataset export: 1000/5000 records, 200/s, about 20 s left",
        "dataset export: 2000/5000 records, 200/s, about 15 s left",
        "dataset export: 2400/5000 records in 12 s, 200/s",
    ]


def test_a_services_callback_starts_the_clock_the_rate_is_measured_by() -> None:
    out, clock = io.StringIO(), FakeClock()
    with progress("dataset export", unit="records", stream=out, interval=5, clock=clock) as meter:
        clock.now = 30.0  # finding the eligible images, before the total is known
        meter.update(0, 600)
        clock.now = 36.0
        meter.update(300, 600)
        clock.now = 40.0
        meter.update(600, 600)  # 4 s after the last line: none
    assert out.getvalue().splitlines() == [
        "dataset export: 0/600 records",
        "dataset export: 300/600 records, 50/s, about 6 s left",
        "dataset export: 600/600 records in 40 s, 60/s",
    ]


def test_without_a_total_a_line_has_no_time_left_and_bytes_are_scaled() -> None:
    out, clock = io.StringIO(), FakeClock()
    with progress("upload", unit="B", stream=out, interval=5, clock=clock) as meter:
        clock.now = 8.0
        meter.advance(40_000_000)
    assert out.getvalue().splitlines() == [
        "upload: 40.0 MB, 5.0 MB/s",
        "upload: 40.0 MB in 8 s, 5.0 MB/s",
    ]


def test_work_that_fails_ends_with_a_line_saying_where_it_stopped() -> None:
    out, clock = io.StringIO(), FakeClock()
    with (
        pytest.raises(RuntimeError),
        progress("import", total=10, stream=out, interval=5, clock=clock) as meter,
    ):
        for item in meter.each(range(10)):
            clock.now += 1
            if item == 3:
                raise RuntimeError("broken row")
    assert out.getvalue().splitlines()[-1] == "import: 3/10 items, stopped after 4 s"


def test_the_interval_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(INTERVAL_VARIABLE, "2")
    out, clock = io.StringIO(), FakeClock()
    with progress("import", total=100, stream=out, clock=clock) as meter:
        for _ in range(4):
            clock.now += 1
            meter.advance(10)
    assert out.getvalue().splitlines()[:2] == [
        "import: 20/100 items, 10/s, about 8 s left",
        "import: 40/100 items, 10/s, about 6 s left",
    ]


def test_a_terminal_gets_a_bar_and_no_plain_lines() -> None:
    out = Terminal()
    with progress("dataset export", total=5000, unit="records", stream=out, interval=0) as meter:
        meter.update(0, 5000)
        meter.update(5000, 5000)
    shown = out.getvalue()
    assert "\r" in shown and "100%|" in shown and "5000/5000" in shown
    assert "records/s" in shown
    assert "dataset export: 5000/5000 records in" not in shown


# A command: `objektify transparency export` with its output going to a log ------------------


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from objektify import local_stack
    from tests.support.in_process_aws import aws

    # moto, here, whatever stack may run on this machine
    monkeypatch.setattr(local_stack, "use_local_stack_if_running", lambda: "moto")
    with aws():
        yield


def test_transparency_export_prints_progress_lines_when_stdout_is_not_a_terminal(
    world: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.models.statements import ACCOUNT_SUSPENDED
    from chalicelib.services import statements
    from objektify.cli import main
    from tests.support.in_process_aws import consented_profile

    for n in range(3):
        statements.about_account(
            consented_profile(f"creator-{n}"),
            ACCOUNT_SUSPENDED,
            decided_by="policy",
            explanation="3 strikes",
            facts="The account reached 3 strike(s).",
            end_date=None,
            automated=True,
        ).save()
    monkeypatch.setenv(INTERVAL_VARIABLE, "0")  # a line at every step
    out = tmp_path / "statements.jsonl"

    assert main(["transparency", "export", "--out", str(out)]) == 0

    printed = capsys.readouterr().out.splitlines()
    assert len(out.read_text().splitlines()) == 3
    assert [json.loads(line)["decision_account"] for line in out.read_text().splitlines()] == [
        "DECISION_ACCOUNT_SUSPENDED"
    ] * 3
    meter = [line for line in printed if line.startswith("transparency export: ")]
    assert meter[0] == "transparency export: 0/3 statements scanned"
    assert any(
        re.fullmatch(r"transparency export: 3/3 statements scanned, [\d.]+/s, about 0 s left", line)
        for line in meter
    ), meter
    assert re.fullmatch(r"transparency export: 3/3 statements scanned in 0 s, [\d.]+/s", meter[-1])
    assert printed[-1] == f"3 statements of reasons from moto written to {out}"


def test_the_dataset_export_reports_each_shard_written_or_skipped(
    world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.services.dataset import export_dataset
    from chalicelib.settings import get_settings
    from tests.support.in_process_aws import consented_profile, painted, scanned

    creator = consented_profile("creator-1")
    for n in range(3):
        assert scanned(painted(creator, f"a lighthouse {n}"), "publish") == "published"
    monkeypatch.setenv("OBJEKTIFY_DATASET_SHARD_SIZE", "2")
    get_settings.cache_clear()
    try:
        out = f"s3://{get_settings().exports_bucket}/dataset"
        told: list[tuple[int, int | None]] = []
        export_dataset(out, on_progress=lambda done, total: told.append((done, total)))
        again = export_dataset(out, on_progress=lambda done, total: told.append((done, total)))
        assert again.skipped_shards == 2  # a re-run's unchanged shards count as done too
        assert told == [(0, 3), (2, 3), (3, 3)] * 2
    finally:
        get_settings.cache_clear()
