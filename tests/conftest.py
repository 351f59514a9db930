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
