"""The caller's personal API keys: made, listed and revoked by a signed-in person (never by a
key: services/identity.py lets no key reach these routes)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.http import caller_of, endpoint, json_body

bp = Blueprint(__name__)


@bp.route("/me/api-keys", methods=["POST"])
@endpoint
def create_key() -> Response:
    from chalicelib.api.schemas import ApiKeyBody, parse
    from chalicelib.services import api_keys

    request = bp.current_request
    caller = caller_of(request)
    body = parse(ApiKeyBody, json_body(request))
    made = api_keys.create(caller.user_id, body.name, list(body.scopes))
    # The key is in this answer and nowhere else, ever: only its hash is kept.
    answer = api_keys.shown_once(made)
    return Response(body=answer, status_code=201)


@bp.route("/me/api-keys", methods=["GET"])
@endpoint
def list_keys() -> dict[str, Any]:
    from chalicelib.services import api_keys

    caller = caller_of(bp.current_request)
    return {"items": api_keys.listed(caller.user_id)}


@bp.route("/me/api-keys/{key_id}", methods=["DELETE"])
@endpoint
def revoke_key(key_id: str) -> Response:
    from chalicelib.services import api_keys

    caller = caller_of(bp.current_request)
    api_keys.revoke(caller.user_id, key_id)
    return Response(body="", status_code=204)
