"""An invisible watermark carrying the image id: its format, and reading it back.

invisible-watermark's `dwtDct` method (its `EmbedMaxDct`, scales [0, 36, 36], 4x4 blocks):
the 128 bits of the image id (a ULID: 26 Crockford base32 characters, exactly 128 bits, packed
into 16 bytes) are written into the Haar wavelet approximation of the U (chroma) channel, one
bit per 4x4 block, each bit repeated over every block it is given (a 512x512 image holds each
bit 32 times). The mark is written where the pixels are made, in the inference container
(`functions/inference/watermark.py`, with the library and OpenCV); this module is what both
sides share and what the API runs to read it.

Reading needs no OpenCV and no invisible-watermark: OpenCV does not fit in a Lambda function
beside the other provenance libraries (150 MB unzipped), and the package's `__init__` imports
torch. The decode below is maxDct's own, in numpy and PyWavelets: the same colour conversion
OpenCV makes on float input, the same block statistic and the same vote; a unit test checks it
gives the library's bits on marked and unmarked images.

It survives metadata stripping and lossless copies; JPEG, WebP, resizing and cropping remove
it (measured in docs/detection.md), and then the fingerprint is the evidence. Images smaller
than `MIN_SIDE` on either side are not marked (the method's own lower bound, 256x256).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MIN_SIDE = 256
PAYLOAD_BITS = 128
# maxDct's defaults, which the embedding side uses: the quantisation step of the U channel
# (the Y channel's scale is 0: unmarked) and the block side.
SCALE = 36
BLOCK = 4
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
# A decoded id is plausible only if its time part lies in the service's lifetime: random bits
# (an image never marked) pass this about once in three thousand, and the caller then still
# checks the id exists.
_EARLIEST_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
_FUTURE_SLACK_MS = 86_400_000


def pack(image_id: str) -> bytes:
    """A ULID's 26 characters as its 16 bytes."""
    if not _ULID.fullmatch(image_id):
        raise ValueError("not an image id")
    value = 0
    for char in image_id:
        value = (value << 5) | _ALPHABET.index(char)
    return value.to_bytes(16, "big")


def unpack(data: bytes) -> str:
    value = int.from_bytes(data, "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _plausible(image_id: str) -> bool:
    made_ms = int.from_bytes(pack(image_id)[:6], "big")
    return _EARLIEST_MS <= made_ms <= time.time() * 1000 + _FUTURE_SLACK_MS


def fits(width: int, height: int) -> bool:
    return min(width, height) >= MIN_SIDE


def bits_of(image_id: str) -> list[int]:
    """The 128 bits the mark carries for `image_id`, most significant first."""
    value = int.from_bytes(pack(image_id), "big")
    return [(value >> (PAYLOAD_BITS - 1 - n)) & 1 for n in range(PAYLOAD_BITS)]


def decoded_bits(rgb: np.ndarray) -> list[int]:
    """The bits the pixels (RGB, uint8, HxWx3) carry: what maxDct's decode gives for them."""
    import numpy as np
    import pywt

    pixels = np.ascontiguousarray(rgb, dtype=np.uint8).astype(np.float32)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    # OpenCV's BGR2YUV on float input: Y = .299R + .587G + .114B, U = (B - Y) * .492 + 0.5.
    luma = blue * np.float32(0.114) + green * np.float32(0.587) + red * np.float32(0.299)
    chroma = (blue - luma) * np.float32(0.492) + np.float32(0.5)
    height, width = chroma.shape
    approximation, _ = pywt.dwt2(chroma[: height // 4 * 4, : width // 4 * 4], "haar")
    rows, cols = approximation.shape[0] // BLOCK, approximation.shape[1] // BLOCK
    blocks = (
        approximation[: rows * BLOCK, : cols * BLOCK]
        .reshape(rows, BLOCK, cols, BLOCK)
        .swapaxes(1, 2)
        .reshape(rows * cols, BLOCK * BLOCK)
    )
    # Each block's largest coefficient but the first says its bit by where it falls within
    # its quantisation step; every block of a bit votes.
    position = np.argmax(np.abs(blocks[:, 1:]), axis=1) + 1
    value = np.abs(blocks[np.arange(len(blocks)), position])
    scores = ((value % SCALE) > 0.5 * SCALE).astype(np.float64)
    bit = np.arange(len(blocks)) % PAYLOAD_BITS
    votes = np.bincount(bit, weights=scores, minlength=PAYLOAD_BITS)
    means = votes / np.bincount(bit, minlength=PAYLOAD_BITS)
    return [int(v) for v in (means * 255 > 127)]


def read(rgb: np.ndarray) -> str | None:
    """The image id the pixels carry, if they decode to a well-formed, plausible one; None
    otherwise (too small, never marked, or the mark did not survive). The caller confirms the
    id exists before trusting it."""
    height, width = rgb.shape[:2]
    if not fits(width, height):
        return None
    value = 0
    for bit in decoded_bits(rgb):
        value = (value << 1) | bit
    image_id = unpack(value.to_bytes(16, "big"))
    if not _ULID.fullmatch(image_id) or not _plausible(image_id):
        return None
    return image_id
