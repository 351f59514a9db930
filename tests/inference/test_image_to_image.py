"""Image-to-image on the offline tiny pipeline: the same loaded modules as text-to-image, a
starting picture resized to the request's size, strength that changes the result, and batches
that never mix image-to-image with text-to-image."""

from __future__ import annotations

import base64
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from PIL import Image

from functions.inference import batching, pipeline, serve
from functions.inference.pipeline import Request


@pytest.fixture(scope="module")
def tiny() -> tuple[Any, pipeline.ModelInfo]:
    return pipeline.load(None)


def picture(size: tuple[int, int] = (96, 80)) -> bytes:
    """A picture of another size than the request's, with stripes the model can start from."""
    image = Image.new("RGB", size, "white")
    for x in range(0, size[0], 8):
        for y in range(size[1]):
            image.putpixel((x, y), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def request(strength: float | None = 0.6, seed: int = 3, init: bytes | None = None) -> Request:
    return Request(
        "a striped flag",
        None,
        64,
        64,
        4,
        seed,
        7.5,
        init_image=(init or picture()) if strength is not None else None,
        strength=strength,
    )


def size_of(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return image.size


def test_image_to_image_paints_a_png_of_the_requested_size(
    tiny: tuple[Any, pipeline.ModelInfo],
) -> None:
    pipe, info = tiny
    png = pipeline.paint(pipe, info, request(0.6))
    assert size_of(png) == (64, 64)
    # The same request again: the same bytes.
    assert pipeline.paint(pipe, info, request(0.6)) == png


def test_strength_and_the_starting_picture_change_the_result(
    tiny: tuple[Any, pipeline.ModelInfo],
) -> None:
    pipe, info = tiny
    low = pipeline.paint(pipe, info, request(0.3))
    high = pipeline.paint(pipe, info, request(0.9))
    other = pipeline.paint(pipe, info, request(0.6, init=picture((40, 40))))
    text = pipeline.paint(pipe, info, request(None))
    assert len({low, high, other, text}) == 4


def test_image_to_image_uses_the_loaded_modules_not_a_copy(
    tiny: tuple[Any, pipeline.ModelInfo],
) -> None:
    pipe, info = tiny
    pipeline.paint(pipe, info, request(0.5))
    made = pipeline.image_to_image(pipe)
    assert type(made).__name__ == "StableDiffusionImg2ImgPipeline"
    assert made is pipeline.image_to_image(pipe)  # made once
    for part in ("unet", "vae", "text_encoder", "tokenizer"):
        assert getattr(made, part) is getattr(pipe, part)
    weights = {p.data_ptr() for p in pipe.unet.parameters()}
    assert {p.data_ptr() for p in made.unet.parameters()} == weights


def test_a_batch_never_mixes_image_to_image_with_text_to_image() -> None:
    seen: list[list[Request]] = []
    lock = threading.Lock()

    def paint_batch(requests: list[Request]) -> list[bytes]:
        with lock:
            seen.append(requests)
        return [b"x" for _ in requests]

    batcher = batching.Batcher(paint_batch, batching.Settings(window_ms=2000, max_batch=8))
    mixed = [request(0.6, seed=1), request(None, seed=2), request(0.6, seed=3), request(0.8)]
    with ThreadPoolExecutor(len(mixed)) as pool:
        list(pool.map(batcher.paint, mixed, timeout=60))
    for batch in seen:
        assert len({r.batch_key() for r in batch}) == 1
    kinds = sorted(tuple(sorted(str(r.strength) for r in batch)) for batch in seen)
    assert kinds == [("0.6", "0.6"), ("0.8",), ("None",)]


def test_a_batch_of_image_to_image_requests_paints_each_as_alone(
    tiny: tuple[Any, pipeline.ModelInfo],
) -> None:
    pipe, info = tiny
    mine = request(0.6, seed=5)
    alone = pipeline.paint(pipe, info, mine)
    together = pipeline.paint_batch(
        pipe, info, [request(0.6, seed=6, init=picture((64, 64))), mine]
    )
    assert together[1] == alone


def payload(**fields: Any) -> bytes:
    return json.dumps({"prompt": "a striped flag", "width": 64, "height": 64, **fields}).encode()


def test_the_payload_carries_the_picture_in_base64_and_a_strength() -> None:
    encoded = base64.b64encode(picture()).decode()
    parsed = serve.parse(payload(init_image=encoded, strength=0.4))
    assert parsed.init_image == picture() and parsed.strength == 0.4
    assert serve.parse(payload()).init_image is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"init_image": "not base64!"}, "init_image must be base64"),
        ({"init_image": base64.b64encode(b"<html>").decode(), "strength": 0.5}, "init_image"),
        ({"init_image": base64.b64encode(picture()[:60]).decode(), "strength": 0.5}, "readable"),
        ({"init_image": base64.b64encode(picture()).decode()}, "strength must be"),
        ({"init_image": base64.b64encode(picture()).decode(), "strength": 0.01}, "strength"),
        ({"init_image": base64.b64encode(picture()).decode(), "strength": True}, "strength"),
        ({"strength": 0.5}, "strength is for init_image only"),
    ],
)
def test_a_bad_picture_or_strength_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(serve.BadRequest, match=message):
        serve.parse(payload(**fields))
