"""The JSON of the services' typed results, as the contract writes them: optional parts are
left out rather than sent as null."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.services.gallery import PublicImage
    from chalicelib.services.generation import OwnerGeneration

_OPTIONAL = (
    "error",
    "model",
    "category",
    "image",
    "queue",
    "remix_of",
    "batch",
    "init_image",
    "strength",
)


def _without_empty(data: dict[str, Any], optional: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not (k in optional and v is None)}


def plain(result: Any) -> dict[str, Any]:
    """A typed result whose every field the contract sends, null included."""
    return dataclasses.asdict(result)


def decision(result: Any) -> dict[str, Any]:
    return _without_empty(dataclasses.asdict(result), ("category",))


def generation(item: OwnerGeneration) -> dict[str, Any]:
    return _without_empty(dataclasses.asdict(item), _OPTIONAL)


def public_image(item: PublicImage) -> dict[str, Any]:
    return _without_empty(dataclasses.asdict(item), ("model", "creator_name"))


def image_detail(item: PublicImage, copies_signed: bool) -> dict[str, Any]:
    """A published image's own page: what lists show, and its content credentials when its
    copies carry a C2PA manifest signed by the service (publishing.write_copies); an image
    published before signing has none."""
    if not copies_signed:
        return public_image(item)
    from chalicelib.provenance.credentials import SERVICE_NAME

    signed: dict[str, Any] = {"signed_by": SERVICE_NAME}
    if item.model is not None:
        signed["model"] = item.model
    return {**public_image(item), "content_credentials": signed}
