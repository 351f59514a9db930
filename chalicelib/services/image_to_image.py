"""Image-to-image: a generation that starts from the caller's own upload.

POST /generations with `init_image` (an upload id) and `strength` (0.05 to 1.0, default
`DEFAULT_STRENGTH`): only the caller's own upload that passed the upload scan may be used;
anyone else's, a pending, scanning, rejected or unknown one is 404 (`uploads.ready_upload_of`).
The clean PNG is shrunk (or stretched) here to the requested size and carried in the model's
request payload (base64), so the inference container reads nothing from the uploads bucket and
needs no permission for it. The generation records the upload (`init_upload`, shown to its
owner only) and the strength; the upload is marked used, so it no longer expires. What is
public about such an image says only that it was made from an upload (`made_from`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from chalicelib.models.uploads import Upload
from chalicelib.services import uploads

DEFAULT_STRENGTH = 0.6
# What the public detail, the dataset record and the content credentials say of an image made
# from an upload (never which upload).
MADE_FROM_UPLOAD = "upload"


@dataclass(frozen=True)
class Start:
    upload: Upload
    png: bytes  # the starting picture at the requested size


def starting_picture(owner_id: str, upload_id: str, width: int, height: int) -> Start:
    """The caller's ready upload and its picture at width x height; NotFound otherwise."""
    from PIL import Image

    upload = uploads.ready_upload_of(owner_id, upload_id)
    with Image.open(io.BytesIO(uploads.clean_bytes(upload))) as opened:
        picture = opened.convert("RGB")
    if picture.size != (width, height):
        picture = picture.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "PNG", compress_level=1)
    return Start(upload, out.getvalue())


def made_from(init_upload: str | None) -> str | None:
    """What an image's public record says it was made from: "upload", or nothing."""
    return MADE_FROM_UPLOAD if init_upload else None
