"""Generations: a consented user's prompt becomes an image."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.api import views
from chalicelib.api.http import caller_of, endpoint, json_body, query_params

if TYPE_CHECKING:
    from chalicelib.api.schemas import GenerationBody

bp = Blueprint(__name__)


@bp.route("/generations", methods=["POST"])
@endpoint
def submit_generation() -> Response:
    from chalicelib.api.schemas import GenerationBody, parse
    from chalicelib.services import flags, submission

    flags.require_enabled("generation")
    request = bp.current_request
    caller = caller_of(request)
    admission = submission.admit(caller.user_id)
    body = parse(GenerationBody, json_body(request))
    asked = _asked(body)
    start = None
    if body.init_image is not None:
        from chalicelib.api.schemas import ASPECTS
        from chalicelib.services import image_to_image

        sized = {"width", "height", "aspect"} & body.model_fields_set
        # 404 unless it is the caller's own upload that passed the scan, or a public image.
        start = image_to_image.starting_picture(
            caller.user_id,
            body.init_image,
            (asked["width"], asked["height"]) if sized else None,
            ASPECTS.values(),
        )
        strength = image_to_image.DEFAULT_STRENGTH if body.strength is None else body.strength
        asked.update(
            strength=float(strength), init_png=start.png, width=start.width, height=start.height
        )
        if start.upload is not None:
            asked["init_upload"] = start.upload.upload_id
        else:
            asked["remix_of"] = start.image_id  # a restyle names its source, as a remix does
    answer = submission.submit(
        admission,
        submission.GenerationRequest(**asked),
        request.headers.get("idempotency-key"),
        bp.lambda_context,
    )
    if start is not None and start.upload is not None:
        from chalicelib.services import uploads

        uploads.mark_used(start.upload)  # a generation uses it: it no longer expires
    return Response(
        body=views.generation(answer),
        status_code=202,
        headers={"Location": f"/generations/{answer.id}"},
    )


def _asked(body: GenerationBody) -> dict[str, Any]:
    """The request's parameters: those given; for a remix, the rest from its published source
    (404 unless it is public); the defaults for anything still missing."""
    from chalicelib.api.schemas import ASPECTS
    from chalicelib.services import remix
    from chalicelib.settings import get_settings

    settings = get_settings()
    base: dict[str, Any] = {}
    if body.remix_of is not None:
        base = remix.parameters(body.remix_of)
    given = body.model_dump(
        exclude_none=True,
        exclude={"aspect", "n", "remix_of", "init_image", "strength"},
        exclude_unset=True,
    )
    if body.aspect is not None:
        given["width"], given["height"] = ASPECTS[body.aspect]
    asked: dict[str, Any] = {
        "negative_prompt": None,
        "width": settings.default_size,
        "height": settings.default_size,
        "steps": settings.default_steps,
        "seed": None,
        "guidance_scale": settings.default_guidance,
        "scheduler": "euler",
        **base,
        **given,
    }
    if body.negative_prompt is None and "negative_prompt" in body.model_fields_set:
        asked["negative_prompt"] = None  # an explicit null clears the source's
    return {**asked, "remix_of": body.remix_of, "n": body.n}


@bp.route("/generations/{generation_id}", methods=["GET"])
@endpoint
def get_generation(generation_id: str) -> dict[str, Any]:
    from chalicelib.services import generation

    caller = caller_of(bp.current_request)
    return views.generation(
        generation.owner_view(generation.get_for_owner(caller.user_id, generation_id))
    )


@bp.route("/me/generations", methods=["GET"])
@endpoint
def my_generations() -> dict[str, Any]:
    from chalicelib.services import cursors, generation

    request = bp.current_request
    caller = caller_of(request)
    params = query_params(request)
    items, next_cursor = generation.list_for_owner(
        caller.user_id, cursors.page_limit(params.get("limit")), params.get("cursor")
    )
    items_json = [views.generation(generation.owner_view(g)) for g in items]
    return {"items": items_json, "next_cursor": next_cursor}
