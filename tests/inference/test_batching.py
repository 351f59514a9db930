"""Micro-batching in the model server: byte identity on the offline tiny pipeline, grouping by
batch key, the cap, and a failed batch answering every waiter."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from functions.inference import batching, pipeline
from functions.inference.pipeline import Request

# Long enough for every test thread to arrive, so batches form the same way on a busy machine.
PATIENT = batching.Settings(window_ms=3000, max_batch=4)


def request(prompt: str = "a small red house", seed: int = 1, size: int = 64) -> Request:
    return Request(prompt, None, size, size, 2, seed, 7.5)


class Recorder:
    """A paint function that records the batches it is given and answers their seeds."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[Request]] = []
        self.fail = fail

    def __call__(self, requests: list[Request]) -> list[bytes]:
        self.batches.append(requests)
        if self.fail:
            raise RuntimeError("CUDA out of memory")
        return [str(r.seed).encode() for r in requests]


def all_at_once(paint: Callable[[Request], Any], requests: list[Request]) -> list[Any]:
    """Submit every request concurrently; each outcome is its bytes or the exception it raised."""

    def one(r: Request) -> Any:
        try:
            return paint(r)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(one, requests, timeout=60))


@pytest.fixture(scope="module")
def tiny() -> tuple[Any, pipeline.ModelInfo]:
    return pipeline.load(None)


def test_a_request_paints_the_same_bytes_alone_and_in_a_batch_of_four(
    tiny: tuple[Any, pipeline.ModelInfo],
) -> None:
    pipe, info = tiny
    mine = request("a small red house", seed=11)
    company = [
        Request("a harbour at dawn", "blurry, dark", 64, 64, 2, 7, 7.5),
        request("x", seed=4_000_000_000),
        request("a cat asleep on a windowsill in the afternoon sun", seed=3),
    ]
    alone = pipeline.paint(pipe, info, mine)
    alone_company = [pipeline.paint(pipe, info, r) for r in company]

    calls: list[int] = []

    def paint_batch(requests: list[Request]) -> list[bytes]:
        calls.append(len(requests))
        return pipeline.paint_batch(pipe, info, requests)

    batcher = batching.Batcher(paint_batch, PATIENT)
    painted = all_at_once(batcher.paint, [company[0], mine, company[1], company[2]])
    assert calls == [4]  # one pipeline call painted all four
    assert painted[1] == alone
    assert [painted[0], painted[2], painted[3]] == alone_company
    assert len(set(painted)) == 4


def test_requests_of_different_sizes_are_not_grouped() -> None:
    recorder = Recorder()
    batcher = batching.Batcher(recorder, batching.Settings(window_ms=3000, max_batch=3))
    requests = [request(seed=s, size=64 if s % 2 else 128) for s in range(1, 7)]
    painted = all_at_once(batcher.paint, requests)
    assert painted == [str(s).encode() for s in range(1, 7)]
    for batch in recorder.batches:
        assert len({r.batch_key() for r in batch}) == 1
    assert sorted(len(b) for b in recorder.batches) == [3, 3]


def test_a_batch_never_holds_more_than_the_cap() -> None:
    recorder = Recorder()
    batcher = batching.Batcher(recorder, PATIENT)
    all_at_once(batcher.paint, [request(seed=s) for s in range(6)])
    assert sorted(len(b) for b in recorder.batches) == [2, 4]


def test_steps_and_guidance_split_batches_as_size_does() -> None:
    base = request()
    assert base.batch_key() == request("another prompt", seed=99).batch_key()
    assert base.batch_key() != Request(base.prompt, None, 64, 64, 3, 1, 7.5).batch_key()
    assert base.batch_key() != Request(base.prompt, None, 64, 64, 2, 1, 5.0).batch_key()
    assert base.batch_key() != Request(base.prompt, None, 64, 128, 2, 1, 7.5).batch_key()


def test_a_failed_batch_answers_every_waiter_and_the_next_batch_is_painted() -> None:
    recorder = Recorder(fail=True)
    batcher = batching.Batcher(recorder, PATIENT)
    outcomes = all_at_once(batcher.paint, [request(seed=s) for s in range(4)])
    assert all(isinstance(o, RuntimeError) and "out of memory" in str(o) for o in outcomes)
    recorder.fail = False
    assert batcher.paint(request(seed=9)) == b"9"


def test_a_lone_request_waits_no_longer_than_the_window() -> None:
    recorder = Recorder()
    batcher = batching.Batcher(recorder, batching.Settings(window_ms=50, max_batch=4))
    done = threading.Event()
    threading.Thread(target=lambda: (batcher.paint(request()), done.set()), daemon=True).start()
    assert done.wait(10)
    assert [len(b) for b in recorder.batches] == [1]


def test_a_wrong_setting_stops_the_container(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(batching.MAX_BATCH_ENV, "0")
    with pytest.raises(SystemExit, match="OBJEKTIFY_MAX_BATCH must be at least 1"):
        batching.Settings.from_env()
    monkeypatch.setenv(batching.MAX_BATCH_ENV, "8")
    monkeypatch.setenv(batching.WINDOW_ENV, "10")
    assert batching.Settings.from_env() == batching.Settings(window_ms=10, max_batch=8)
