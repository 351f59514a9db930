"""What the benchmarks share: a local stack of their own, users, timing helpers."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.config import StackState  # noqa: E402
from tests.support.client import Api, sign_in  # noqa: E402
from tests.support.stack import running_stack  # noqa: E402


@contextmanager
def stack(extra_env: dict[str, str] | None = None) -> Iterator[StackState]:
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp), extra_env) as state:
        yield state


def consented_user(state: StackState, *groups: str) -> Api:
    api = sign_in(state, *groups)
    api.accept_current_terms()
    return api


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(samples: list[float], unit: str = "s") -> str:
    return (
        f"p50 {percentile(samples, 50):.3f}{unit}  p95 {percentile(samples, 95):.3f}{unit}  "
        f"mean {statistics.fmean(samples):.3f}{unit}  n={len(samples)}"
    )


def wait_until(probe: Callable[[], bool], timeout: float = 120, every: float = 0.05) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if probe():
            return time.perf_counter() - started
        time.sleep(every)
    raise TimeoutError("condition not reached")


@contextmanager
def counting_aws_calls() -> Iterator[dict[str, int]]:
    """Count every AWS API call made in this process (boto3 and PynamoDB alike) by name."""
    from botocore.client import BaseClient

    calls: dict[str, int] = {}
    original = BaseClient._make_api_call

    def counting(self: object, operation: str, params: object) -> object:
        name = f"{self.meta.service_model.service_name}.{operation}"  # type: ignore[attr-defined]
        calls[name] = calls.get(name, 0) + 1
        return original(self, operation, params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign,assignment]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def in_process_app(state: StackState) -> object:
    """The Chalice app imported in this process, configured exactly as the stack's own."""
    import os

    from local.config import app_env

    os.environ.update(app_env(state, Path(state.extra["dir"])))
    os.environ["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = state.extra["runtime_url"]
    import app as app_module

    return app_module.app
