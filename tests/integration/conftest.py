from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.config import StackState
from tests.support.stack import running_stack


@pytest.fixture(scope="package")
def mod_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackState]:
    """The moderation and due-process tests' stack: they switch parts off and revise the
    terms, so not the shared one; two reports take an image into review, two strikes
    suspend, and a few notices per hour come from one address."""
    env = {
        "OBJEKTIFY_REPORT_THRESHOLD": "2",
        "OBJEKTIFY_STRIKE_LIMIT": "2",
        "OBJEKTIFY_FLAGS_CACHE_SECONDS": "1",
        # Notices from one network address (every test's): the last due-process test uses up
        # what is left of the window.
        "OBJEKTIFY_NOTICE_LIMIT": "8",
    }
    with running_stack(Path(tmp_path_factory.mktemp("moderation")), env) as state:
        yield state
