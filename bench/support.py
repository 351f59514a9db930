"""What the benchmarks share: a local stack of their own, users, timing helpers."""

from __future__ import annotations

import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.config import StackState, aws_env, free_port  # noqa: E402
from tests.support.client import consented as consented_user  # noqa: E402, F401 (the benches use it)
from tests.support.stack import running_stack  # noqa: E402


@contextmanager
def stack(extra_env: dict[str, str] | None = None) -> Iterator[StackState]:
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp), extra_env) as state:
        yield state


@contextmanager
def tables() -> Iterator[str]:
    """The AWS emulator alone, holding the app's (empty) tables, for a bench that calls the
    services in this process: no API, model or pump beside it, and no snapshot of its state
    when it stops. This process's environment points boto3 and PynamoDB at it (set before
    anything from chalicelib is imported); yields the emulator's endpoint."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OBJEKTIFY_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "local.emulator", "--port", str(port)],
        cwd=ROOT,
        env=env | aws_env(endpoint),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _answers(f"{endpoint}/moto-api/data.json", process), timeout=60)
        os.environ.update(aws_env(endpoint))
        # The keys the services sign cursors and hash addresses with, fresh for the run.
        for name in ("OBJEKTIFY_SIGNING_KEYS", "OBJEKTIFY_ADDRESS_HASH_KEY"):
            os.environ.setdefault(name, secrets.token_urlsafe(32))
        from local.bootstrap import create_tables

        create_tables()
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(url: str, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"the emulator exited with {process.returncode}")
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


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
def counting_aws_calls(examined: dict[str, int] | None = None) -> Iterator[dict[str, int]]:
    """Count every AWS API call made in this process (boto3 and PynamoDB alike) by name.
    With `examined`, also add up by name the items each DynamoDB Query and Scan read
    (`ScannedCount`), and each BatchGetItem answered: the work behind a request, which a scan
    makes grow with its table."""
    from botocore.client import BaseClient

    calls: dict[str, int] = {}
    original = BaseClient._make_api_call

    def counting(self: object, operation: str, params: object) -> object:
        name = f"{self.meta.service_model.service_name}.{operation}"  # type: ignore[attr-defined]
        calls[name] = calls.get(name, 0) + 1
        answer = original(self, operation, params)
        if examined is not None and isinstance(answer, dict) and "ScannedCount" in answer:
            examined[name] = examined.get(name, 0) + int(answer["ScannedCount"])
        elif examined is not None and isinstance(answer, dict) and "Responses" in answer:
            found = sum(len(items) for items in answer["Responses"].values())
            examined[name] = examined.get(name, 0) + found
        return answer

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
