"""The watermark is written where the pixels are made: the model server marks each image with
the id SageMaker's CustomAttributes name, before its one PNG encoding, and a batch stays
byte-identical to its requests painted alone."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image

from chalicelib.adapters import ids
from chalicelib.provenance import watermark
from functions.inference import pipeline, serve
from functions.inference.pipeline import Request
from tests.inference.test_model_server import start_server, stop

SIDE = watermark.MIN_SIDE  # the smallest image that carries the mark


def read(png: bytes) -> str | None:
    return watermark.read(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")))


@pytest.fixture(scope="module")
def tiny() -> tuple[Any, pipeline.ModelInfo]:
    return pipeline.load(None)


def test_each_image_of_a_batch_carries_its_own_id_and_the_bytes_it_gets_alone(
    tiny: tuple[Any, pipeline.ModelInfo],
) -> None:
    pipe, info = tiny
    first, second = ids.new_id(), ids.new_id()
    requests_ = [
        Request("a small red house", None, SIDE, SIDE, 2, 3, 7.5, first),
        Request("a blue boat", None, SIDE, SIDE, 2, 4, 7.5, second),
    ]
    together = pipeline.paint_batch(pipe, info, requests_)
    assert together == [pipeline.paint(pipe, info, r) for r in requests_]
    assert [read(png) for png in together] == [first, second]
    unmarked = pipeline.paint(pipe, info, Request("a small red house", None, SIDE, SIDE, 2, 3, 7.5))
    assert unmarked != together[0] and read(unmarked) is None


def test_an_image_too_small_for_the_mark_is_painted_as_before(
    tiny: tuple[Any, pipeline.ModelInfo],
) -> None:
    pipe, info = tiny
    plain = Request("a small red house", None, 64, 64, 2, 1, 7.5)
    marked = Request("a small red house", None, 64, 64, 2, 1, 7.5, ids.new_id())
    assert pipeline.paint(pipe, info, marked) == pipeline.paint(pipe, info, plain)


def test_the_image_id_comes_from_custom_attributes() -> None:
    image_id = ids.new_id()
    assert serve.image_id_of(f"image_id={image_id}") == image_id
    assert serve.image_id_of(f"trace=1; image_id={image_id}") == image_id
    assert serve.image_id_of(None) is None and serve.image_id_of("") is None
    with pytest.raises(serve.BadRequest):
        serve.image_id_of("image_id=../../etc/passwd")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    process, url = start_server()
    yield url
    stop(process)


def test_the_server_marks_the_image_with_the_id_sagemaker_forwards(server: str) -> None:
    image_id = ids.new_id()
    payload = {"prompt": "a lighthouse", "width": SIDE, "height": SIDE, "steps": 2, "seed": 9}
    answer = requests.post(
        f"{server}/invocations",
        json=payload,
        headers={"X-Amzn-SageMaker-Custom-Attributes": f"image_id={image_id}"},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    assert read(answer.content) == image_id
    refused = requests.post(
        f"{server}/invocations",
        json=payload,
        headers={"X-Amzn-SageMaker-Custom-Attributes": "image_id=nonsense"},
        timeout=120,
    )
    assert refused.status_code == 400
