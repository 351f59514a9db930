"""An invisible watermark carrying the image id, written into the pixels where they are made.

invisible-watermark's `dwtDct` method: the 128 bits of the image id (a ULID: 26 Crockford
base32 characters, 128 bits) spread over the DCT of 4x4 blocks of the Haar wavelet's
approximation of the two chroma channels, each bit repeated over every block it is given (a
1024x1024 image holds each bit about 250 times per channel). It is deterministic: the same
pixels and id give the same bytes. It survives metadata stripping and lossless re-encoding;
JPEG, resizing and cropping weaken it (see the tests and the README for what was measured), and
then the fingerprint is the evidence.

Images smaller than `MIN_SIDE` on either side are not marked (the method's own lower bound,
256x256; the local tiny model's 64x64 outputs are below it).

This module runs in two places, so it imports nothing of the application: the inference
container (which embeds; it copies this file) and the API (which reads). Its heavy imports
(numpy, OpenCV, PyWavelets) happen on first use.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

MIN_SIDE = 256
PAYLOAD_BITS = 128
MAX_PASSES = 8
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


@functools.lru_cache(maxsize=1)
def _embedder_class() -> Any:
    """invisible-watermark's `EmbedMaxDct`, loaded from its own file.

    Importing the package runs its `__init__`, which imports every method, rivaGan's among
    them, and rivaGan imports torch (and onnxruntime): hundreds of MB that neither Lambda nor
    this method needs. `maxDct.py` itself needs only numpy, OpenCV and PyWavelets, so it is
    loaded as a module of its own, found where the package is installed, without running the
    package's `__init__`."""
    package = importlib.util.find_spec("imwatermark")
    if package is None or not package.submodule_search_locations:
        raise ImportError("invisible-watermark is not installed")
    path = Path(next(iter(package.submodule_search_locations))) / "maxDct.py"
    spec = importlib.util.spec_from_file_location("objektify_imwatermark_maxdct", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EmbedMaxDct


def fits(width: int, height: int) -> bool:
    return min(width, height) >= MIN_SIDE


def _bits(image_id: str) -> list[int]:
    import numpy as np

    return [int(bit) for bit in np.unpackbits(np.frombuffer(pack(image_id), dtype=np.uint8))]


def embed(rgb: np.ndarray, image_id: str) -> np.ndarray:
    """The RGB pixels (uint8, HxWx3) carrying `image_id`; unchanged if the image is too small.

    The method moves, in each block, the largest coefficient to a quantisation step that says
    the bit; moving it can make another coefficient the largest, and a smooth image then reads
    some bits wrong. So the mark is read back and written again over the marked pixels until
    it reads right (blocks already right do not change): one pass for most textured images,
    a few for smooth ones, at most `MAX_PASSES`. Still deterministic."""
    import numpy as np

    height, width = rgb.shape[:2]
    if not fits(width, height):
        return rgb
    bits = _bits(image_id)
    embedder = _embedder_class()(bits, wmLen=PAYLOAD_BITS)
    marked = np.ascontiguousarray(rgb, dtype=np.uint8)
    for _ in range(MAX_PASSES):
        # In floating point: the library's own uint8 path truncates (and wraps) every changed
        # coefficient, which loses most of the mark below 1024x1024.
        encoded = embedder.encode(_bgr(marked))
        marked = _rgb(np.clip(np.rint(encoded), 0, 255).astype(np.uint8))
        if _decoded_bits(marked) == bits:
            break
    return marked


def _bgr(rgb: np.ndarray) -> np.ndarray:
    import cv2
    import numpy as np

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR).astype(np.float32)


def _rgb(bgr: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _decoded_bits(rgb: np.ndarray) -> list[int]:
    import numpy as np

    decoder = _embedder_class()(watermarks=[], wmLen=PAYLOAD_BITS)
    bgr = _bgr(np.ascontiguousarray(rgb, dtype=np.uint8))
    return [int(bit) for bit in decoder.decode(bgr)]


def embed_image(image: Image.Image, image_id: str) -> Image.Image:
    """`embed` for a Pillow image (RGB); a too small image is returned as it is."""
    import numpy as np
    from PIL import Image as PILImage

    if not fits(*image.size):
        return image
    return PILImage.fromarray(embed(np.asarray(image.convert("RGB")), image_id), "RGB")


def read(rgb: np.ndarray) -> str | None:
    """The image id the pixels carry, if they decode to a well-formed, plausible one; None
    otherwise (too small, never marked, or the mark did not survive). The caller confirms the
    id exists before trusting it."""
    import numpy as np

    height, width = rgb.shape[:2]
    if not fits(width, height):
        return None
    bits = np.asarray(_decoded_bits(rgb), dtype=np.uint8)
    image_id = unpack(np.packbits(bits).tobytes())
    if not _ULID.fullmatch(image_id) or not _plausible(image_id):
        return None
    return image_id
