"""Schedulers on the offline tiny pipeline: each is reproducible (same request, same bytes, alone
or in a batch), they differ from one another, switching never reloads the weights, and batches
are grouped by scheduler."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from functions.inference import batching, pipeline, serve
from functions.inference.pipeline import Request


@pytest.fixture(scope="module")
def tiny() -> tuple[Any, pipeline.ModelInfo]:
    return pipeline.load(None)


def request(scheduler: str, seed: int = 5, prompt: str = "a lighthouse") -> Request:
    return Request(prompt, None, 64, 64, 3, seed, 6.0, scheduler=scheduler)


@pytest.mark.parametrize("scheduler", sorted(pipeline.SCHEDULERS))
def test_each_scheduler_paints_the_same_bytes_for_the_same_request(
    tiny: tuple[Any, pipeline.ModelInfo], scheduler: str
) -> None:
    pipe, info = tiny
    first = pipeline.paint(pipe, info, request(scheduler))
    # Another scheduler and another seed in between: no state carries over.
    other = "ddim" if scheduler != "ddim" else "euler_a"
    pipeline.paint(pipe, info, request(other, seed=9))
    again = pipeline.paint(pipe, info, request(scheduler))
    assert first == again
    assert first != pipeline.paint(pipe, info, request(scheduler, seed=6))
    assert type(pipe.scheduler).__name__ == pipeline.SCHEDULERS[scheduler]


@pytest.mark.parametrize("scheduler", sorted(pipeline.SCHEDULERS))
def test_each_scheduler_paints_a_request_alike_alone_and_in_a_batch(
    tiny: tuple[Any, pipeline.ModelInfo], scheduler: str
) -> None:
    pipe, info = tiny
    mine = request(scheduler, seed=11)
    company = [request(scheduler, seed=12, prompt="a cat"), request(scheduler, seed=13)]
    batch = pipeline.paint_batch(pipe, info, [company[0], mine, company[1]])
    assert batch[1] == pipeline.paint(pipe, info, mine)


def test_schedulers_paint_different_images_with_the_same_weights(
    tiny: tuple[Any, pipeline.ModelInfo],
) -> None:
    pipe, info = tiny
    unet = pipe.unet
    weights = next(unet.parameters()).data_ptr()
    painted = {name: pipeline.paint(pipe, info, request(name)) for name in pipeline.SCHEDULERS}
    assert len(set(painted.values())) == len(pipeline.SCHEDULERS)
    assert pipe.unet is unet and next(pipe.unet.parameters()).data_ptr() == weights
    # Built from the loaded scheduler's config: the same training schedule.
    loaded = pipe._objektify_scheduler_config
    for made in pipe._objektify_schedulers.values():
        assert made.config.num_train_timesteps == loaded.num_train_timesteps
        assert made.config.beta_schedule == loaded.beta_schedule


def test_the_default_is_the_loaded_euler_scheduler(tiny: tuple[Any, pipeline.ModelInfo]) -> None:
    pipe, info = tiny
    default = Request("a lighthouse", None, 64, 64, 3, 5, 7.5)
    assert default.scheduler == "euler"
    parsed = serve.parse(
        b'{"prompt": "a lighthouse", "width": 64, "height": 64, "steps": 3, "seed": 5}'
    )
    assert parsed == default
    assert pipeline.paint(pipe, info, default) == pipeline.paint(
        pipe, info, dataclasses.replace(default, scheduler="euler")
    )


def test_an_unknown_scheduler_is_a_400_at_the_container() -> None:
    with pytest.raises(serve.BadRequest, match="scheduler must be one of"):
        serve.parse(b'{"prompt": "a", "scheduler": "rm -rf /"}')


def test_requests_of_different_schedulers_are_not_grouped() -> None:
    batches: list[list[Request]] = []

    def paint_batch(requests: list[Request]) -> list[bytes]:
        batches.append(requests)
        return [f"{r.scheduler}{r.seed}".encode() for r in requests]

    batcher = batching.Batcher(paint_batch, batching.Settings(window_ms=3000, max_batch=4))
    requests = [request(s, seed=n) for n, s in enumerate(["euler", "ddim", "euler", "ddim"])]
    with ThreadPoolExecutor(4) as pool:
        painted = list(pool.map(batcher.paint, requests, timeout=60))
    assert painted == [f"{r.scheduler}{r.seed}".encode() for r in requests]
    assert sorted(len(b) for b in batches) == [2, 2]
    assert all(len({r.scheduler for r in b}) == 1 for b in batches)
    assert request("euler").batch_key() != request("euler_a").batch_key()
