"""Verification of model outputs and the served derivatives."""

from __future__ import annotations

import io
import json
import zlib

import pytest
from PIL import Image, PngImagePlugin

from chalicelib import imaging


def png(size: tuple[int, int] = (512, 512), text: dict[str, str] | None = None) -> bytes:
    image = Image.linear_gradient("L").convert("RGB").resize(size)
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def test_a_good_output_verifies_and_names_its_model() -> None:
    model = json.dumps({"name": "tiny", "version": "1"})
    verified = imaging.verify(png(text={imaging.PROVENANCE_CHUNK: model}), (512, 512))
    assert (verified.width, verified.height) == (512, 512)
    assert (verified.model_name, verified.model_version) == ("tiny", "1")


@pytest.mark.parametrize(
    "data", [b"", b"GIF89a....", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, png()[:-200]]
)
def test_non_images_and_truncated_files_are_refused(data: bytes) -> None:
    with pytest.raises(imaging.InvalidImage):
        imaging.verify(data)


def test_the_wrong_size_is_refused() -> None:
    with pytest.raises(imaging.InvalidImage):
        imaging.verify(png((256, 256)), (512, 512))


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    # A valid PNG header claiming 40000 x 40000 pixels, with a tiny compressed body.
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
        )

    header = (40000).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )
    with pytest.raises(imaging.InvalidImage):
        imaging.verify(bomb)


def test_derivatives_have_the_right_sizes_and_marks() -> None:
    source = png(
        (1024, 768),
        text={
            imaging.PROVENANCE_CHUNK: json.dumps({"name": "m", "version": "2"}),
            "Comment": "private note",
        },
    )
    made = imaging.derivatives(imaging.verify(source), "IMG1")
    thumb = Image.open(io.BytesIO(made.thumbnail_webp))
    web = Image.open(io.BytesIO(made.web_webp))
    full = Image.open(io.BytesIO(made.full_png))
    assert thumb.format == "WEBP" and max(thumb.size) == 256
    assert web.format == "WEBP" and web.size == (1024, 768)
    assert full.format == "PNG" and full.size == (1024, 768)
    for data in (made.web_webp, made.full_png):
        assert b"http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia" in data
        assert b"Objektify (m 2)" in data  # uncompressed XMP, readable as-is
        assert b"private note" not in data
        assert imaging.PROVENANCE_CHUNK.encode() not in data
    assert b"private note" not in made.thumbnail_webp
    assert "trainedAlgorithmicMedia" in full.info["XML:com.adobe.xmp"]
    assert (
        full.getdata() is not None
        and full.tobytes() == imaging.verify(source).image.convert("RGB").tobytes()
    )


def test_a_polyglot_with_bytes_after_the_image_end_is_refused() -> None:
    polyglot = png((512, 512)) + b"PK\x03\x04 a zip archive hiding here"
    with pytest.raises(imaging.InvalidImage):
        imaging.verify(polyglot)
