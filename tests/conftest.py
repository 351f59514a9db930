from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.config import StackState
from tests.support.stack import running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackState]:
    """One local stack shared by the integration tests that change no global state."""
    with running_stack(tmp_path_factory.mktemp("stack")) as state:
        yield state


@pytest.fixture
def fresh_stack(tmp_path: Path) -> Iterator[StackState]:
    """A stack of its own, for tests that change what every user sees (terms, switches)."""
    with running_stack(tmp_path / "stack") as state:
        yield state


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No log of any stack this session started may hold a secret (tokens, keys, signatures,
    hashed addresses); a finding fails the run."""
    from tests.security import figures
    from tests.support.log_scan import scan
    from tests.support.stack import STARTED

    if not STARTED:
        return
    result = scan(STARTED)
    figures.add("log lines scanned for secrets", result.lines, len(result.findings))
    print(
        f"\nlogs: {result.lines} lines of {len(STARTED)} stacks scanned, "
        f"{len(result.findings)} secrets found"
    )
    for finding in result.findings[:20]:
        print("  " + finding)
    if result.findings:
        session.exitstatus = 1
