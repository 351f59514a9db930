"""Image-to-image: a generation that starts from the caller's own upload, or restyles a
published image.

POST /generations with `init_image` (an upload id, or a published image's id) and `strength`
(0.05 to 1.0, default `DEFAULT_STRENGTH`): only the caller's own upload that passed the upload
scan may be used; anyone else's, a pending, scanning, rejected or unknown one is 404
(`uploads.ready_upload_of`) unless the id is a public image's. A restyle of a published image
reads its private original and is recorded as a remix of it (`remix_of`: its page names the
source, which counts it among its remixes, as `remix` does), with the strength.
The clean PNG is shrunk (or stretched) here to the requested size (without one, an upload is
painted at the preset shape nearest its own, a published image at its own size) and carried in
the model's request payload (base64), so the inference container reads nothing from the
uploads bucket and needs no permission for it. The generation records the upload
(`init_upload`, shown to its owner only) and the strength; the upload is marked used, so it no
longer expires. What is public about such an image says only that it was made from an upload
(`made_from`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.adapters import storage
from chalicelib.models.uploads import Upload
from chalicelib.services import uploads
from chalicelib.services.errors import NotFound
from chalicelib.settings import get_settings

DEFAULT_STRENGTH = 0.6
# What the public detail, the dataset record and the content credentials say of an image made
# from an upload (never which upload).
MADE_FROM_UPLOAD = "upload"


@dataclass(frozen=True)
class Start:
    upload: Upload | None  # the caller's upload it starts from, or
    image_id: str | None  # the published image it restyles
    png: bytes  # the starting picture at the size painted
    width: int
    height: int


def starting_picture(
    owner_id: str, init_image: str, size: tuple[int, int] | None, shapes: Iterable[tuple[int, int]]
) -> Start:
    """The caller's ready upload, or else the public image, that `init_image` names, and its
    picture at `size`; without one, an upload at the one of `shapes` nearest its own shape, a
    published image at its own size. NotFound if it is neither."""
    try:
        upload: Upload | None = uploads.ready_upload_of(owner_id, init_image)
    except NotFound:
        upload = None
    if upload is not None:
        return _start(upload, None, uploads.clean_bytes(upload), size, shapes)
    from chalicelib.services import gallery

    source = gallery.published(init_image)  # NotFound unless public
    settings = get_settings()
    original = storage.read(settings.originals_bucket, source.output_key, settings.max_output_bytes)
    own_size = size or (int(source.width), int(source.height))
    return _start(None, source.generation_id, original, own_size, shapes)


def nearest_shape(width: int, height: int, shapes: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """The one of `shapes` whose width-to-height ratio is nearest (as a factor) `width` x
    `height`'s."""
    ratio = math.log(width / height)
    return min(shapes, key=lambda shape: abs(math.log(shape[0] / shape[1]) - ratio))


def _start(
    upload: Upload | None,
    image_id: str | None,
    data: bytes,
    size: tuple[int, int] | None,
    shapes: Iterable[tuple[int, int]],
) -> Start:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as opened:
        picture = opened.convert("RGB")
    width, height = size or nearest_shape(*picture.size, shapes)
    if picture.size != (width, height):
        picture = picture.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "PNG", compress_level=1)
    return Start(upload, image_id, out.getvalue(), width, height)


def made_from(init_upload: str | None) -> str | None:
    """What an image's public record says it was made from: "upload", or nothing."""
    return MADE_FROM_UPLOAD if init_upload else None
