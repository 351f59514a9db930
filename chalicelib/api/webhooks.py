"""The caller's webhook: where the final states of their generations are POSTed, signed."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.http import caller_of, endpoint, json_body

bp = Blueprint(__name__)


@bp.route("/me/webhook", methods=["PUT"])
@endpoint
def set_webhook() -> dict[str, Any]:
    from chalicelib.api.schemas import WebhookBody, parse
    from chalicelib.services import webhooks

    request = bp.current_request
    caller = caller_of(request)
    body = parse(WebhookBody, json_body(request))
    hook = webhooks.set_hook(caller.user_id, body.url)
    # The secret is in this answer and nowhere else, ever.
    return {"url": hook.url, "secret": hook.secret}


@bp.route("/me/webhook", methods=["GET"])
@endpoint
def get_webhook() -> dict[str, Any]:
    from chalicelib.services import webhooks

    caller = caller_of(bp.current_request)
    return webhooks.hook_state(caller.user_id)


@bp.route("/me/webhook", methods=["DELETE"])
@endpoint
def delete_webhook() -> Response:
    from chalicelib.services import webhooks

    caller = caller_of(bp.current_request)
    webhooks.remove_all(caller.user_id)
    return Response(body="", status_code=204)
