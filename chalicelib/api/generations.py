"""Generations: a consented user's prompt becomes an image."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api import views
from chalicelib.api.http import caller_of, endpoint, json_body, query_params

bp = Blueprint(__name__)


@bp.route("/generations", methods=["POST"])
@endpoint
def submit_generation() -> Response:
    from chalicelib.api.schemas import GenerationBody, parse
    from chalicelib.services import flags, submission
    from chalicelib.settings import get_settings

    flags.require_enabled("generation")
    request = bp.current_request
    caller = caller_of(request)
    admission = submission.admit(caller.user_id)
    body = parse(GenerationBody, json_body(request))
    settings = get_settings()
    answer = submission.submit(
        admission,
        submission.GenerationRequest(
            prompt=body.prompt,
            negative_prompt=body.negative_prompt,
            width=body.width or settings.default_size,
            height=body.height or settings.default_size,
            steps=body.steps or settings.default_steps,
            seed=body.seed,
        ),
        request.headers.get("idempotency-key"),
        bp.lambda_context,
    )
    return Response(
        body=views.generation(answer),
        status_code=202,
        headers={"Location": f"/generations/{answer.id}"},
    )


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
