"""A published image as the public sees it: its detail, its download, and its deletion.

Lists of images come from `feed`; what makes an image public (copies, entries) from
`publishing`; every change of its state from `lifecycle`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from chalicelib import resources
from chalicelib.adapters import clock
from chalicelib.models.gallery import GalleryEntry
from chalicelib.models.generations import (
    REMOVED,
    Generation,
    find,
    guidance_of,
    is_public,
    scheduler_of,
)
from chalicelib.models.notices import OUTCOME_REMOVED
from chalicelib.services import display_names, lifecycle, notices, publishing
from chalicelib.services.errors import NotFound
from chalicelib.settings import get_settings


@dataclass(frozen=True)
class PublicImage:
    """A published image as everyone sees it, whether read from a feed entry or its record."""

    id: str
    creator: str
    creator_name: str | None
    prompt: str
    width: int
    height: int
    created_at: str
    published_at: str | None
    thumbnail_url: str
    image_url: str
    model: dict[str, str] | None
    likes: int = 0  # kept on entries and the record by every like (services/likes.py)


def public_image(source: GalleryEntry | Generation) -> PublicImage:
    """An entry carries its creator's name; an image's own record does not, so its page reads
    the name (one GetItem for the one image, never one per item of a list)."""
    name: str | None
    if isinstance(source, GalleryEntry):
        image_id, creator, name = source.image_id, source.creator_id, source.creator_name
    else:
        image_id, creator = source.generation_id, source.owner_id
        name = display_names.current(creator)
    model = source.model
    urls = publishing.image_urls(image_id)
    return PublicImage(
        id=image_id,
        creator=creator,
        creator_name=name,
        prompt=source.prompt,
        width=int(source.width),
        height=int(source.height),
        created_at=clock.iso(source.created_at),
        published_at=clock.iso(source.published_at) if source.published_at else None,
        thumbnail_url=urls["thumbnail_url"],
        image_url=urls["image_url"],
        model={"name": model.name, "version": model.version} if model is not None else None,
        likes=int(source.likes or 0),
    )


def parameters(generation: Generation) -> dict[str, Any]:
    """How a published image was made, for its own page (lists carry none of it): everything
    needed to paint the same bytes again with the model it names, and its remix lineage
    (`remix_of` only on a remix; `remixes`: its public remixes, a counter on its record)."""
    made: dict[str, Any] = {
        "negative_prompt": generation.negative_prompt,
        "steps": int(generation.steps),
        "seed": int(generation.seed),
        "guidance_scale": guidance_of(generation),
        "scheduler": scheduler_of(generation),
        "remixes": max(0, int(generation.remixes or 0)),
    }
    if generation.remix_of:
        made["remix_of"] = generation.remix_of
    if generation.init_upload:
        # Made from its creator's upload: said, never which upload (private).
        made["made_from"] = "upload"
    if generation.strength is not None:  # image-to-image: from an upload, or a restyle
        made["strength"] = float(generation.strength)
    return made


def published(image_id: str) -> Generation:
    """A public image; 404 for unknown, removed, rejected, in review, deleted or withheld."""
    generation = find(image_id, visible=is_public)
    if generation is None:
        raise NotFound()
    return generation


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def download_url(image_id: str) -> str:
    """A short-lived URL of the full-size published copy, served as an attachment."""
    generation = published(image_id)
    slug = _UNSAFE.sub("-", generation.prompt.lower())[:40].strip("-.") or "image"
    filename = f"objektify-{slug}-{generation.generation_id[-8:].lower()}.png"
    return publishing.public_url(
        resources.public_keys(image_id)["full"],
        ResponseContentDisposition=f'attachment; filename="{filename}"',
        ResponseContentType="image/png",
    )


def etag(payload: Any) -> str:
    """A validator for public answers: their data, plus the presign period the URLs live in.

    The URLs themselves are left out: a presigned one differs each second it is signed in,
    and each is made from the image's id, which is in the data. A cached answer stays good for
    the rest of its period, while its URLs live for at least half their lifetime more.
    """
    period = int(clock.epoch() // max(60, get_settings().presign_seconds // 2))
    digest = hashlib.sha256(repr((_without_urls(payload), period)).encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def _without_urls(payload: Any) -> Any:
    if isinstance(payload, dict):
        return {k: _without_urls(v) for k, v in payload.items() if not k.endswith("_url")}
    if isinstance(payload, list):
        return [_without_urls(item) for item in payload]
    return payload


def delete_image(image_id: str, caller_id: str, is_moderator: bool) -> None:
    """Its creator deletes an image (409 while it awaits a moderator's decision); a moderator's
    delete of someone else's image is a removal, with its audit entry and strike."""
    generation = find(image_id, visible=lambda g: g.owner_id == caller_id or is_moderator)
    if generation is None:
        raise NotFound()
    if generation.owner_id == caller_id:
        lifecycle.delete_by_creator(generation)
        return
    if generation.status == REMOVED:
        return
    statement_id = lifecycle.remove(
        generation, caller_id, "deleted by a moderator", None, action="delete"
    )
    notices.answer_all(image_id, OUTCOME_REMOVED, statement_id)
