"""Remix: a new generation that starts from a published image's parameters.

`parameters` gives what POST /generations with `remix_of` inherits (the caller's own fields
override it); only a public image may be remixed: an unknown, removed, rejected, in-review,
deleted or withheld one is 404, as on its page. The new generation records `remix_of`; the
source counts its public remixes in `remixes` (an atomic ADD on its record as a remix becomes
public or leaves public, `lifecycle`), so its page shows the count with no query.
"""

from __future__ import annotations

from typing import Any

from chalicelib.models.generations import guidance_of, scheduler_of
from chalicelib.services import gallery


def parameters(image_id: str) -> dict[str, Any]:
    """The published image's prompt, negative prompt, size, steps, seed, guidance and
    scheduler; NotFound unless it is public."""
    source = gallery.published(image_id)
    return {
        "prompt": source.prompt,
        "negative_prompt": source.negative_prompt,
        "width": int(source.width),
        "height": int(source.height),
        "steps": int(source.steps),
        "seed": int(source.seed),
        "guidance_scale": guidance_of(source),
        "scheduler": scheduler_of(source),
    }
