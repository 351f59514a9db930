from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.config import StackState
from tests.security.world import World
from tests.support.stack import running_stack


@pytest.fixture(scope="package")
def security_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackState]:
    env = {
        "OBJEKTIFY_REPORT_THRESHOLD": "1",
        "OBJEKTIFY_STRIKE_LIMIT": "1000",
        "OBJEKTIFY_REVIEW_LINK_SECONDS": "600",
        "OBJEKTIFY_CORS_ORIGINS": "https://app.example",
        # The owner paints dozens of images for the cells (the quota has a suite of its own).
        "OBJEKTIFY_QUOTA_LIMIT": "200",
        "OBJEKTIFY_NOTICE_LIMIT": "200",  # every caller here shares one network address
        "OBJEKTIFY_PROVENANCE_CHECK_LIMIT": "200",  # and so do their provenance checks
    }
    with running_stack(Path(tmp_path_factory.mktemp("security")), env) as state:
        yield state


@pytest.fixture(scope="package")
def world(security_stack: StackState) -> World:
    return World(security_stack)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fuzzing runs last: it leaves many generations behind on the shared stack."""
    items.sort(key=lambda item: "test_contract_fuzzing" in item.nodeid)
