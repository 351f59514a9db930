"""Bounded load: simulated users who consent, submit, poll, browse, report and delete."""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from local.config import StackState
from tests.reliability.history import FINAL, History
from tests.support.client import Api, sign_in


@dataclass
class LoadResult:
    requests: int = 0
    server_errors: int = 0
    connection_errors: int = 0  # no answer at all (a process was killed mid-request)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    finished: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"requests {self.requests}, 5xx other than 503: {self.server_errors}, "
            f"no answer: {self.connection_errors}, "
            f"generations finished {self.finished} in {self.seconds:.0f} s "
            f"({60 * self.finished / max(self.seconds, 1):.1f}/min)"
        ]
        for route, samples in sorted(self.latencies.items()):
            ordered = sorted(samples)
            p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
            lines.append(
                f"  {route:<28} n={len(samples):<4} p50 {statistics.median(samples) * 1000:7.1f} ms"
                f"  p95 {p95 * 1000:7.1f} ms"
            )
        return "\n".join(lines)


def run_load(
    state: StackState, users: int, seconds: float, history: History, seed: int = 7
) -> tuple[LoadResult, dict[str, Api]]:
    result = LoadResult()
    lock = threading.Lock()
    apis: dict[str, Api] = {}

    def timed(api: Api, route: str, method: str, path: str, **kwargs: object):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            answer = api.request(method, path, allow_redirects=False, **kwargs)
        except requests.ConnectionError:
            with lock:
                result.requests += 1
                result.connection_errors += 1
            return None
        with lock:
            result.requests += 1
            result.latencies[route].append(time.perf_counter() - started)
            if answer.status_code >= 500 and answer.status_code != 503:
                result.server_errors += 1
        return answer

    def submit(api: Api, name: str, prompt: str) -> dict[str, Any] | None:
        """A submit with an Idempotency-Key, retried with that key while the answer is lost or
        the first attempt is still in progress (bounded); a lost answer is recorded as such."""
        key, deadline, interrupted = str(uuid.uuid4()), time.monotonic() + 90, False
        while True:
            answer = timed(
                api,
                "POST /generations",
                "POST",
                "/generations",
                json={"prompt": prompt, "steps": 1},
                headers={"Idempotency-Key": key},
            )
            retry = answer is None or (
                answer.status_code == 409 and answer.json().get("code") == "conflict"
            )
            interrupted = interrupted or answer is None
            if not retry or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if interrupted:
            history.record("interrupted submit", name, None, 0, {})
        if answer is None:
            return None
        body = answer.json() if answer.content else {}
        history.record("submit", name, body.get("id"), answer.status_code, body)
        return dict(body) if answer.status_code == 202 else None

    def answered(ask: Callable[[], requests.Response | None]) -> requests.Response:
        deadline = time.monotonic() + 60
        while (answer := ask()) is None or answer.status_code == 503:
            assert time.monotonic() < deadline, "the API gave no answer for a minute"
            time.sleep(0.5)
        return answer

    def signed_in() -> Api:
        deadline = time.monotonic() + 60
        while True:
            try:
                return sign_in(state)
            except (requests.ConnectionError, KeyError):  # no answer, or a 503 while restarting
                assert time.monotonic() < deadline, "the API gave no answer for a minute"
                time.sleep(0.5)

    def user(number: int) -> None:
        rng = random.Random(seed + number)
        name = f"load-{number}"
        api = signed_in()
        apis[name] = api
        # A user starting while the API is being killed asks again, as a person would.
        terms = answered(lambda: timed(api, "GET /terms/current", "GET", "/terms/current"))
        answer = answered(
            lambda: timed(
                api,
                "POST /consents",
                "POST",
                "/consents",
                json={"version": terms.json()["version"], "sha256": terms.json()["sha256"]},
            )
        )
        history.record("consent", name, None, answer.status_code, answer.json())
        mine: list[str] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            action = rng.random()
            if action < 0.35:
                body = submit(api, name, f"load test {number} {rng.random():.5f}")
                if body is not None:
                    mine.append(body["id"])
            elif action < 0.6 and mine:
                timed(api, "GET /generations/{id}", "GET", f"/generations/{rng.choice(mine)}")
            elif action < 0.85:
                timed(api, "GET /gallery", "GET", "/gallery?limit=24")
            elif action < 0.92:
                page = timed(api, "GET /gallery", "GET", "/gallery?limit=10")
                feed = page.json()["items"] if page is not None and page.status_code == 200 else []
                if feed:
                    target = rng.choice(feed)["id"]
                    answer = timed(
                        api,
                        "POST /gallery/{id}/reports",
                        "POST",
                        f"/gallery/{target}/reports",
                        json={"reason": "other"},
                    )
                    if answer is not None:
                        history.record("report", name, target, answer.status_code, {})
            elif mine:
                target = mine.pop(rng.randrange(len(mine)))
                answer = timed(api, "DELETE /gallery/{id}", "DELETE", f"/gallery/{target}")
                if answer is not None:
                    history.record("delete", name, target, answer.status_code, {})
            time.sleep(rng.uniform(0.05, 0.3))

    started = time.monotonic()
    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Let everything accepted finish (bounded), then count.
    accepted = [o for o in history.of("submit") if o.status == 202]
    wait_until = time.monotonic() + 180
    while time.monotonic() < wait_until:
        pending = [o for o in accepted if not _is_final(apis[o.user], o.answer["id"])]
        if not pending:
            break
        time.sleep(1)
    result.seconds = time.monotonic() - started
    result.finished = len(accepted)
    return result, apis


def _is_final(api: Api, generation_id: str) -> bool:
    """Whether a generation has reached a final status; an answer that is not a 200 (a 503
    while AWS faults are injected, a lost connection) counts as not yet, and is asked again."""
    try:
        answer = api.get(f"/generations/{generation_id}")
    except requests.ConnectionError:
        return False
    return answer.status_code == 200 and answer.json()["status"] in FINAL
