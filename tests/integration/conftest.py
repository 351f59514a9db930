from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.config import StackState
from tests.support.stack import running_stack


@pytest.fixture(scope="package")
def mod_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackState]:
    """The moderation and due-process tests' stack: they switch parts off and revise the
    terms, so not the shared one; two reports take an image into review, two strikes suspend."""
    env = {
        "OBJEKTIFY_REPORT_THRESHOLD": "2",
        "OBJEKTIFY_STRIKE_LIMIT": "2",
        "OBJEKTIFY_FLAGS_CACHE_SECONDS": "1",
    }
    with running_stack(Path(tmp_path_factory.mktemp("moderation")), env) as state:
        yield state
