"""`objektify token USER` while `make dev` is starting, running, or not there at all."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from local.config import STARTING_FILE, StackState, mark_starting
from objektify.cli import main
from objektify.local_stack import WAITING


@pytest.fixture
def local_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OBJEKTIFY_LOCAL_DIR", str(tmp_path))
    monkeypatch.setattr(
        "local.tokens.issue_token",
        lambda state, user, groups=(): f"token-for-{user}-from-{state.user_pool_id}",
    )
    return tmp_path


def state() -> StackState:
    return StackState("http://127.0.0.1:8000", "http://127.0.0.1:4566", "us-east-1_pool", "c")


def later(seconds: float, action: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def finish_starting(directory: Path) -> None:
    """What the stack does once every part answers."""
    state().save(directory)
    (directory / STARTING_FILE).unlink()


def test_a_running_stack_gives_a_token_at_once(
    local_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state().save(local_dir)
    assert main(["token", "ada"]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("token-for-ada-from-us-east-1_pool\n", "")


def test_a_starting_stack_is_waited_for_saying_so_once(
    local_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mark_starting(local_dir)
    done = later(0.7, lambda: finish_starting(local_dir))
    assert main(["token", "ada", "--wait", "10"]) == 0
    done.join()
    out, err = capsys.readouterr()
    assert out == "token-for-ada-from-us-east-1_pool\n"
    assert err == WAITING + "\n"
    assert "make dev" in WAITING


def test_without_a_stack_the_token_says_start_it_without_waiting(
    local_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()
    with pytest.raises(SystemExit, match="start it with `make dev`"):
        main(["token", "ada", "--wait", "10"])
    assert time.monotonic() - began < 1
    assert capsys.readouterr().err == ""


def test_a_marker_left_by_a_stack_that_died_is_no_starting_stack(
    local_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    (local_dir / STARTING_FILE).write_text(gone.stdout.strip())
    with pytest.raises(SystemExit, match="start it with `make dev`"):
        main(["token", "ada", "--wait", "10"])
    assert capsys.readouterr().err == ""


def test_the_wait_is_bounded(local_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mark_starting(local_dir)
    began = time.monotonic()
    with pytest.raises(SystemExit, match=r"still starting after 0\.5s"):
        main(["token", "ada", "--wait", "0.5"])
    assert 0.5 <= time.monotonic() - began < 3
    assert capsys.readouterr().err == WAITING + "\n"


def test_a_stack_that_stops_while_starting_ends_the_wait(
    local_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mark_starting(local_dir)
    stopped = later(0.5, (local_dir / STARTING_FILE).unlink)
    began = time.monotonic()
    with pytest.raises(SystemExit, match="stopped before it finished starting"):
        main(["token", "ada", "--wait", "10"])
    stopped.join()
    assert time.monotonic() - began < 5
