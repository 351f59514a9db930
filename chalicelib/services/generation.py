"""A creator's generations: their own view of each, and the model's notifications about them.

Submission lives in `submission`, the sweeper in `sweeper`, every state change in `lifecycle`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.adapters import clock, ids
from chalicelib.models.generations import (
    IN_REVIEW,
    PUBLISHED,
    QUEUED,
    REJECTED,
    REMOVED,
    Generation,
    find,
    guidance_of,
    scheduler_of,
)
from chalicelib.observability import logger
from chalicelib.services import cursors, lifecycle, publishing, queue_position
from chalicelib.services.errors import NotFound

USER_SAFE_ERRORS = {
    "model_error": "The model could not paint this image. Try again.",
    "timed_out": "This generation took too long and was stopped. Try again.",
    "could_not_start": "The image generator is unavailable. Try again shortly.",
    "invalid_output": "The model produced no usable image. Try again.",
    "account_restricted": "This account was restricted before the image was ready.",
}


@dataclass(frozen=True)
class OwnerGeneration:
    """A generation as its creator sees it (every state, the reason of a failure)."""

    id: str
    status: str
    prompt: str
    negative_prompt: str | None
    width: int
    height: int
    steps: int
    seed: int
    guidance_scale: float
    scheduler: str
    terms_version: int
    created_at: str
    updated_at: str
    remix_of: str | None = None
    batch: list[str] | None = None
    error: dict[str, str] | None = None
    model: dict[str, str] | None = None
    category: str | None = None
    image: dict[str, str] | None = None
    queue: dict[str, int] | None = None  # while queued: {position, eta_seconds}
    init_image: str | None = None  # image-to-image: the owner's upload it started from
    strength: float | None = None


def owner_view(generation: Generation) -> OwnerGeneration:
    error = None
    if generation.error:
        message = USER_SAFE_ERRORS.get(generation.error, "The generation failed.")
        error = {"code": generation.error, "message": message}
    model = None
    if generation.model is not None:
        model = {"name": generation.model.name, "version": generation.model.version}
    shows_category = generation.status in (REJECTED, REMOVED, IN_REVIEW)
    image = None
    if generation.status == PUBLISHED:
        image = {"id": generation.generation_id, **publishing.image_urls(generation.generation_id)}
    return OwnerGeneration(
        id=generation.generation_id,
        status=generation.status,
        prompt=generation.prompt,
        negative_prompt=generation.negative_prompt,
        width=int(generation.width),
        height=int(generation.height),
        steps=int(generation.steps),
        seed=int(generation.seed),
        guidance_scale=guidance_of(generation),
        scheduler=scheduler_of(generation),
        terms_version=int(generation.terms_version),
        created_at=clock.iso(generation.created_at),
        updated_at=clock.iso(generation.updated_at),
        remix_of=generation.remix_of,
        batch=list(generation.batch) if generation.batch else None,
        error=error,
        model=model,
        category=generation.category if shows_category and generation.category else None,
        image=image,
        queue=queue_position.position_of(generation) if generation.status == QUEUED else None,
        init_image=generation.init_upload,
        strength=float(generation.strength) if generation.strength is not None else None,
    )


def get_for_owner(user_id: str, generation_id: str) -> Generation:
    """The generation if `user_id` owns it; anyone else learns nothing (404)."""
    generation = find(generation_id, visible=lambda g: g.owner_id == user_id)
    if generation is None:
        raise NotFound()
    return generation


def list_for_owner(
    user_id: str, limit: int, cursor: str | None
) -> tuple[list[Generation], str | None]:
    start = cursors.decode(cursor, f"mine:{user_id}") if cursor else None
    page = Generation.by_owner.query(
        user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start
    )
    items = list(page)
    next_key = page.last_evaluated_key
    return items, (cursors.encode(next_key, f"mine:{user_id}") if next_key else None)


def record_inference_result(notification: dict[str, Any]) -> str:
    """Apply a SageMaker async success/error notification; duplicates change nothing."""
    generation_id = str(notification.get("inferenceId", ""))
    if not ids.is_id(generation_id):
        raise ValueError("notification names no generation")
    status = notification.get("invocationStatus")
    if status == "Completed":
        moved = lifecycle.output_ready(generation_id)
    elif status == "Failed":
        logger.warning(
            "inference failed",
            extra={"generation_id": generation_id, "reason": notification.get("failureReason")},
        )
        moved = lifecycle.fail(generation_id, "model_error", from_states=(QUEUED,))
    else:
        raise ValueError(f"unknown invocation status {status!r}")
    return "applied" if moved else "ignored"
