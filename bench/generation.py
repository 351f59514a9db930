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


def main() -> None:
    with stack() as state:
        calls = aws_calls_of_one_submit(state)
        samples = end_to_end(state)
    print("generation through the local stack (tiny offline model, 512x512, default steps)")
    print(f"  POST -> final state: {summary(samples)}   (goal p50 <= 3 s)")
    print(f"  AWS calls of one submit with an Idempotency-Key: {sum(calls.values())}  (goal <= 6)")
    for name, count in sorted(calls.items()):
        print(f"    {count} x {name}")
    print("  GPU images/s: see bench/inference.py (needs a lent GPU)")


if __name__ == "__main__":
    main()
