"""Writing the invisible watermark (the image id) into the pixels, where they are made.

The format and the reading side are `chalicelib/provenance/watermark.py` (copied into this
image); the writing is invisible-watermark's `EmbedMaxDct` (its `dwtDct` method), which needs
OpenCV and PyWavelets, installed in this container only.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.provenance.watermark import PAYLOAD_BITS, bits_of, decoded_bits, fits

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

MAX_PASSES = 8


@functools.lru_cache(maxsize=1)
def embedder_class() -> Any:
    """invisible-watermark's `EmbedMaxDct`, loaded from its own file.

    Importing the package runs its `__init__`, which imports every method, rivaGan's among
    them, and rivaGan imports torch and onnxruntime: nothing this method needs (and the package
    is installed without its declared dependencies). `maxDct.py` itself needs only numpy,
    OpenCV and PyWavelets, so it is loaded as a module of its own, found where the package is
    installed, without running the package's `__init__`."""
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


def embed(rgb: np.ndarray, image_id: str) -> np.ndarray:
    """The RGB pixels (uint8, HxWx3) carrying `image_id`; unchanged if the image is too small.

    The method moves, in each block, the largest coefficient to a quantisation step that says
    the bit; moving it can make another coefficient the largest, and a smooth image then reads
    some bits wrong. So the mark is read back and written again over the marked pixels until
    it reads right (blocks already right do not change): one pass for most textured images,
    a few for smooth ones, at most `MAX_PASSES`. Deterministic: a batch stays byte-identical."""
    import cv2
    import numpy as np

    height, width = rgb.shape[:2]
    if not fits(width, height):
        return rgb
    bits = bits_of(image_id)
    embedder = embedder_class()(bits, wmLen=PAYLOAD_BITS)
    marked = np.ascontiguousarray(rgb, dtype=np.uint8)
    for _ in range(MAX_PASSES):
        # In floating point: the library's own uint8 path truncates (and wraps) every changed
        # coefficient, which loses most of the mark below 1024x1024.
        encoded = embedder.encode(cv2.cvtColor(marked, cv2.COLOR_RGB2BGR).astype(np.float32))
        marked = cv2.cvtColor(np.clip(np.rint(encoded), 0, 255).astype(np.uint8), cv2.COLOR_BGR2RGB)
        if decoded_bits(marked) == bits:
            break
    return marked


def embed_image(image: Image.Image, image_id: str) -> Image.Image:
    """`embed` for a Pillow image (RGB); a too small image is returned as it is."""
    import numpy as np
    from PIL import Image as PILImage

    if not fits(*image.size):
        return image
    return PILImage.fromarray(embed(np.asarray(image.convert("RGB")), image_id), "RGB")
