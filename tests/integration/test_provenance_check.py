"""`POST /provenance/check` over HTTP: a published image's download, stripped of its metadata,
re-encoded as JPEG and halved, is recognised by its fingerprint with the right image id; the
download itself by its C2PA manifest, watermark and fingerprint, a lossless copy of its pixels
by the watermark; an image made elsewhere is not; a removed one is made here but leads nowhere; oversized and
non-image bodies are refused."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from local.config import StackState
from tests.support.client import Api, anonymous, publish_one, sign_in

pytestmark = pytest.mark.integration


def download(public: Api, image_id: str) -> bytes:
    found = public.get(f"/gallery/{image_id}/download", allow_redirects=False)
    assert found.status_code == 302, found.text
    full = requests.get(found.headers["Location"], timeout=30)
    assert full.status_code == 200
    return full.content


def stripped_jpeg_half(data: bytes) -> bytes:
    """Pixels only (no XMP, no C2PA), JPEG quality 70, resized to 50 %."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    half = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    half.save(out, "JPEG", quality=70)
    return out.getvalue()


def check(public: Api, body: bytes, content_type: str) -> requests.Response:
    return public.post("/provenance/check", data=body, headers={"Content-Type": content_type})


@pytest.fixture(scope="module")
def creator(stack: StackState) -> Api:
    alice = sign_in(stack)
    alice.accept_current_terms()
    return alice


def test_a_stripped_jpeg_halved_download_is_recognised_by_its_fingerprint(
    stack: StackState, creator: Api
) -> None:
    from chalicelib.provenance import fingerprints

    made = publish_one(creator)
    public = anonymous(stack)
    full = download(public, made["id"])
    quality = fingerprints.compute(Image.open(io.BytesIO(full))).quality
    assert quality >= fingerprints.MIN_QUALITY, f"the local model's output is too flat: {quality}"
    started = time.perf_counter()
    answer = check(public, stripped_jpeg_half(full), "image/jpeg")
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["made_here"] is True and body["public"] is True
    assert body["image_id"] == made["id"]
    assert body["evidence"] == ["fingerprint"]
    assert body["model"] == made["model"]
    assert body["created_at"] == made["created_at"]
    print(f"\nPDQ quality of the output {quality}; check of the copy {elapsed_ms:.0f} ms")


def test_the_download_is_recognised_by_all_three_and_a_pixel_copy_by_its_watermark(
    stack: StackState, creator: Api
) -> None:
    made = publish_one(creator)
    public = anonymous(stack)
    full = download(public, made["id"])
    answer = check(public, full, "image/png")
    assert answer.status_code == 200, answer.text
    assert answer.json()["image_id"] == made["id"]
    assert answer.json()["evidence"] == ["c2pa", "watermark", "fingerprint"]
    # The same pixels, every byte of metadata gone (a lossless re-encode): the mark remains.
    pixels = io.BytesIO()
    Image.open(io.BytesIO(full)).convert("RGB").save(pixels, "PNG")
    answer = check(public, pixels.getvalue(), "image/png")
    assert answer.status_code == 200, answer.text
    assert answer.json()["image_id"] == made["id"]
    assert answer.json()["evidence"] == ["watermark", "fingerprint"]


def test_an_image_made_elsewhere_is_not_made_here(stack: StackState) -> None:
    noise = np.random.default_rng(41).random((32, 32, 3)) * 255
    picture = Image.fromarray(noise.astype(np.uint8), "RGB").resize(
        (512, 512), Image.Resampling.BICUBIC
    )
    out = io.BytesIO()
    picture.save(out, "PNG")
    answer = check(anonymous(stack), out.getvalue(), "image/png")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"made_here": False, "public": False, "evidence": []}


def test_a_removed_image_is_made_here_but_names_nothing(stack: StackState, creator: Api) -> None:
    made = publish_one(creator)
    public = anonymous(stack)
    full = download(public, made["id"])
    assert creator.delete(f"/gallery/{made['id']}").status_code == 204
    answer = check(public, stripped_jpeg_half(full), "image/jpeg")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["made_here"] is True and body["public"] is False
    assert "image_id" not in body and "created_at" not in body
    assert made["id"] not in answer.text
    assert body["evidence"] == ["fingerprint"]


def test_oversized_and_non_image_bodies_are_refused(stack: StackState) -> None:
    public = anonymous(stack)
    too_big = check(public, b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024), "image/png")
    assert too_big.status_code == 413, too_big.text
    assert too_big.json()["code"] == "payload_too_large"
    for body, content_type in (
        (b"just some text", "text/plain"),
        (b'{"image": "no"}', "application/json"),
        (b"%PDF-1.7 this is not a picture", "image/png"),
    ):
        refused = check(public, body, content_type)
        assert refused.status_code == 400, (content_type, refused.text)
        assert refused.json()["code"] == "invalid_image"


def test_the_command_line_says_made_here_or_not_by_its_exit_status(
    stack: StackState, creator: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from objektify.cli import main

    made = publish_one(creator)
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(stripped_jpeg_half(download(anonymous(stack), made["id"])))
    assert main(["provenance", "check", str(copy), "--api", stack.api_url]) == 0
    said = capsys.readouterr().out
    assert "Made here" in said and made["id"] in said and "fingerprint" in said
    elsewhere = tmp_path / "elsewhere.png"
    noise = np.random.default_rng(43).random((32, 32, 3)) * 255
    Image.fromarray(noise.astype(np.uint8), "RGB").resize((512, 512)).save(elsewhere)
    assert main(["provenance", "check", str(elsewhere), "--api", stack.api_url]) == 1
    assert "Not made here" in capsys.readouterr().out
