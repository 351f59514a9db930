"""Pillow's checks of an image a user uploads, and the clean copy everything else uses.

An upload is refused (`imaging.InvalidImage`) unless all of these hold:
- its declared type (the Content-Type the presigned POST fixed) is PNG, JPEG or WebP, its first
  bytes are that format's signature, and Pillow, offered every format it knows, reads it as
  that format and no other;
- it has at most `MAX_UPLOAD_PIXELS` (4096 x 4096: a phone's usual 12-megapixel photo fits;
  the header's size is checked before anything is decoded, and Pillow's own bomb guard is set
  to it while the upload is read);
- it decodes completely (truncated or corrupt files are refused);
- it is nothing but its own format's structure, to the last byte: nothing after a PNG's IEND,
  a JPEG's EOI (but further whole JPEG images, as phones append for the Multi-Picture Format,
  and NUL padding) or the end of a WebP's RIFF container (where a ZIP, HTML or PDF would ride
  along as a polyglot), and no ZIP, HTML, script, SVG, PHP or PDF signature inside its metadata
  (PNG's non-image chunks, JPEG's APPn and COM segments, WebP's non-image chunks), where a
  file can hide a second format that readers find by scanning.

Such a file may still be harmless, but nothing legitimate needs it: an image editor or a camera
writes none of it. The original is never served anyway; everything downstream (the scanner,
the PDQ hash, image-to-image) uses the clean copy: the pixels alone, turned upright by the EXIF
orientation first, converted to sRGB from the ICC profile the file embeds (a phone's Display P3
photo, a CMYK print file: its colours stay as its owner saw them once the profile is dropped),
transparency flattened onto white, shrunk to fit `CLEAN_SIDE` (2048, the
largest the service works with) on its longer side, saved as a new PNG with no EXIF, GPS, XMP,
ICC profile or text chunk (`clean_png`).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImageOps

from chalicelib.imaging import PNG_SIGNATURE, InvalidImage

if TYPE_CHECKING:
    from PIL import ImageCms

MAX_UPLOAD_PIXELS = 4096 * 4096
CLEAN_SIDE = 2048

FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
# Signatures of formats that must not hide inside an image's metadata (searched lower-cased).
FOREIGN = (
    b"pk\x03\x04",  # ZIP local file header (also JAR, DOCX, APK)
    b"pk\x05\x06",  # ZIP end of central directory
    b"%pdf-",
    b"<html",
    b"<!doctype",
    b"<script",
    b"<svg",
    b"<?php",
    b"<iframe",
)
_PNG_IMAGE_CHUNKS = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS"}
_WEBP_IMAGE_CHUNKS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}


@dataclass(frozen=True)
class CleanImage:
    png: bytes
    image: Image.Image  # the clean copy's pixels (RGB)
    width: int
    height: int


def verify_upload(data: bytes, content_type: str) -> Image.Image:
    """The decoded image, or InvalidImage saying why the bytes are refused (see the module)."""
    expected = FORMATS.get(content_type)
    if expected is None:
        raise InvalidImage(f"type {content_type!r} is not accepted")
    if _signature(data) != expected:
        raise InvalidImage(f"the bytes are not a {expected}")
    end, metadata = _structure(expected, data)
    if end != len(data):
        raise InvalidImage("bytes after the image end (a polyglot file)")
    lowered = metadata.lower()
    if any(marker in lowered for marker in FOREIGN):
        raise InvalidImage("another format inside the metadata (a polyglot file)")
    try:
        with _pixel_guard(MAX_UPLOAD_PIXELS):
            with Image.open(io.BytesIO(data)) as probe:  # every format Pillow knows
                if probe.format != expected:
                    raise InvalidImage(f"read as {probe.format}, not {expected}")
                if probe.width * probe.height > MAX_UPLOAD_PIXELS:
                    raise InvalidImage("too many pixels")
                probe.verify()
            image = Image.open(io.BytesIO(data), formats=[expected])
            image.load()
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage(f"undecodable: {type(exc).__name__}") from exc
    return image


def clean_png(image: Image.Image) -> CleanImage:
    """Upright pixels only, as a new PNG: nothing of the original's metadata survives."""
    upright = _in_srgb(ImageOps.exif_transpose(image), image.info.get("icc_profile"))
    if upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    ):
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flat = upright.convert("RGB")
    if max(flat.size) > CLEAN_SIDE:
        flat.thumbnail((CLEAN_SIDE, CLEAN_SIDE), Image.Resampling.LANCZOS)
    pixels = Image.frombytes("RGB", flat.size, flat.tobytes())  # a new image: empty info
    out = io.BytesIO()
    # zlib level 1: half the time of the default 6 at 1024², for somewhat larger private files.
    pixels.save(out, "PNG", compress_level=1)
    return CleanImage(out.getvalue(), pixels, pixels.width, pixels.height)


def _in_srgb(image: Image.Image, profile: bytes | None) -> Image.Image:
    """`image` converted from its embedded ICC `profile` to sRGB (keeping transparency), or as
    it is without one. A profile that cannot be read or does not fit the pixels is ignored: the
    pixels are then taken as sRGB, as browsers take an untagged image."""
    if not profile:
        return image
    from PIL import ImageCms  # littlecms: only a tagged picture needs it

    alpha = "A" in image.getbands() or "transparency" in image.info
    if image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        image = image.convert("RGBA" if alpha else "RGB")
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        converted = ImageCms.profileToProfile(
            image, source, _srgb(), outputMode="RGBA" if image.mode == "RGBA" else "RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image
    return converted if converted is not None else image


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@contextmanager
def _pixel_guard(limit: int) -> Iterator[None]:
    """Pillow's bomb guard at an upload's limit while one is read (the service's own images
    keep `imaging.MAX_PIXELS`, and their scan checks the size itself as well)."""
    kept = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limit
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = kept


def _signature(data: bytes) -> str | None:
    if data.startswith(PNG_SIGNATURE):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _structure(kind: str, data: bytes) -> tuple[int, bytes]:
    """Where the image's own structure ends, and its metadata's bytes joined."""
    if kind == "PNG":
        return _png(data)
    if kind == "JPEG":
        return _jpeg(data)
    return _webp(data)


def _png(data: bytes) -> tuple[int, bytes]:
    position, metadata = len(PNG_SIGNATURE), list[bytes]()
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        if kind not in _PNG_IMAGE_CHUNKS:
            metadata.append(data[position + 8 : position + 8 + length])
        position += 12 + length
        if kind == b"IEND":
            return position, b"\x00".join(metadata)
    raise InvalidImage("no IEND chunk (truncated)")


_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RST0-7 carry no length


def _jpeg(data: bytes) -> tuple[int, bytes]:
    """A JPEG may be followed by further complete JPEG images (the Multi-Picture Format that
    phones write: gain maps, depth maps) and by NUL padding some cameras add; nothing else."""
    end, metadata = _one_jpeg(data, 0)
    parts = [metadata]
    while data.startswith(b"\xff\xd8\xff", end):
        end, metadata = _one_jpeg(data, end)
        parts.append(metadata)
    if not data[end:].strip(b"\x00"):
        end = len(data)
    return end, b"\x00".join(parts)


def _one_jpeg(data: bytes, start: int) -> tuple[int, bytes]:
    position, metadata = start + 2, list[bytes]()
    size = len(data)
    while position + 1 < size:
        if data[position] != 0xFF:
            raise InvalidImage("not a JPEG marker where one belongs")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:  # EOI
            return position + 2, b"\x00".join(metadata)
        if marker in _STANDALONE:
            position += 2
            continue
        if position + 4 > size:
            break
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2:
            raise InvalidImage("a JPEG segment with a bad length")
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:  # APPn, COM
            metadata.append(data[position + 4 : position + 2 + length])
        position += 2 + length
        if marker == 0xDA:  # SOS: entropy-coded data up to the next real marker
            while True:
                found = data.find(b"\xff", position)
                if found < 0 or found + 1 >= size:
                    raise InvalidImage("no EOI marker (truncated)")
                following = data[found + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    position = found + 2
                    continue
                position = found
                break
    raise InvalidImage("no EOI marker (truncated)")


def _webp(data: bytes) -> tuple[int, bytes]:
    end = 8 + int.from_bytes(data[4:8], "little")
    if end > len(data):
        raise InvalidImage("RIFF container longer than the file (truncated)")
    position, metadata = 12, list[bytes]()
    while position + 8 <= end:
        kind = data[position : position + 4]
        length = int.from_bytes(data[position + 4 : position + 8], "little")
        if kind not in _WEBP_IMAGE_CHUNKS:
            metadata.append(data[position + 8 : position + 8 + length])
        position += 8 + length + (length & 1)
    if position != end:
        raise InvalidImage("bytes in the container outside its chunks (a polyglot file)")
    return end, b"\x00".join(metadata)
