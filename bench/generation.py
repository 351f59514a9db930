"""Generation: time from POST /generations to a final state through the local stack (offline
model), and the AWS calls one submit makes. Prints figures; asserts nothing."""

from __future__ import annotations

import collections
import os
import time
from typing import Any

from support import consented_user, stack, summary, wait_until

FINAL = {"published", "in_review", "rejected", "failed", "removed"}
RUNS = int(os.environ.get("BENCH_RUNS", "20"))


def end_to_end(state: Any) -> list[float]:
    alice = consented_user(state)
    alice.post("/generations", json={"prompt": "warm-up"})  # first call loads lazily everywhere
    samples = []
    for i in range(RUNS):
        started = time.perf_counter()
        created = alice.post("/generations", json={"prompt": f"a small boat number {i}"}).json()

        def final(gid: str = created["id"]) -> bool:
            return alice.get(f"/generations/{gid}").json()["status"] in FINAL

        wait_until(final)
        samples.append(time.perf_counter() - started)
    return samples


def aws_calls_of_one_submit(state: Any) -> collections.Counter[str]:
    """Run the app in this process against the stack and count every AWS API call a submit makes."""
    from botocore.client import BaseClient
    from chalice.test import Client

    from local.config import app_env

    user = consented_user(state)
    os.environ.update(app_env(state, __import__("pathlib").Path(state.extra["dir"])))
    os.environ["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = state.extra["runtime_url"]
    import app as app_module

    calls: collections.Counter[str] = collections.Counter()
    original = BaseClient._make_api_call

    def counting(self: Any, operation: str, params: Any) -> Any:
        calls[f"{self.meta.service_model.service_name}.{operation}"] += 1
        return original(self, operation, params)

    headers = {"Authorization": f"Bearer {user.token}", "Content-Type": "application/json"}
    with Client(app_module.app) as client:
        client.http.get("/me", headers=headers)  # warm: signing keys, terms cache
        client.http.get("/gallery", headers=headers)  # warm: the switches' cache
        BaseClient._make_api_call = counting  # type: ignore[method-assign]
        try:
            answer = client.http.post(
                "/generations",
                headers={**headers, "Idempotency-Key": "b1"},
                body=b'{"prompt": "a lantern in the fog"}',
            )
        finally:
            BaseClient._make_api_call = original  # type: ignore[method-assign]
    assert answer.status_code == 202, answer.body
    return calls


def parallel_submits(state: Any, total: int = 50, in_flight: int = 25) -> tuple[list[float], int]:
    """One user's `total` submits, `in_flight` at a time, against the stack's quota: the time
    each answer took, and how many were accepted."""
    from concurrent.futures import ThreadPoolExecutor

    racer = consented_user(state)
    racer.get("/me")

    def submit(i: int) -> tuple[float, int]:
        started = time.perf_counter()
        status = racer.post("/generations", json={"prompt": f"a race {i}"}).status_code
        return time.perf_counter() - started, status

    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        answers = list(pool.map(submit, range(total)))
    return [seconds for seconds, _ in answers], sum(1 for _, s in answers if s == 202)


def main() -> None:
    with stack({"OBJEKTIFY_QUOTA_LIMIT": "30"}) as state:
        race, accepted = parallel_submits(state)
    with stack() as state:
        calls = aws_calls_of_one_submit(state)
        samples = end_to_end(state)
    print("generation through the local stack (tiny offline model, 512x512, default steps)")
    print(f"  POST -> final state: {summary(samples)}   (goal p50 <= 3 s)")
    print(f"  AWS calls of one submit with an Idempotency-Key: {sum(calls.values())}  (goal <= 6)")
    for name, count in sorted(calls.items()):
        print(f"    {count} x {name}")
    print("50 parallel submits of one user (25 in flight) against a quota of 30")
    print(f"  answer time: {summary(race)}   (goal: every answer <= 2 s)")
    print(f"  accepted: {accepted}  (goal: exactly 30)")
    print("  GPU images/s: see bench/inference.py (needs a lent GPU)")


if __name__ == "__main__":
    main()
