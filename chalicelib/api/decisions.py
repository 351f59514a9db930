"""Due process: the statements of reasons a user reads, their appeals, and moderators'
decisions on appeals.

A restricted (suspended or banned) user still reads their statements and appeals them: that
is what the statements are for."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api import views
from chalicelib.api.http import caller_of, endpoint, json_body, query_params

bp = Blueprint(__name__)


@bp.route("/me/decisions", methods=["GET"])
@endpoint
def my_decisions() -> dict[str, Any]:
    from chalicelib.services import cursors, statements

    request = bp.current_request
    caller = caller_of(request)
    params = query_params(request)
    items, next_cursor = statements.about_user(
        caller.user_id, cursors.page_limit(params.get("limit")), params.get("cursor")
    )
    return {
        "items": [views.plain(statements.shown(s)) for s in items],
        "next_cursor": next_cursor,
    }


@bp.route("/me/decisions/{decision_id}/appeal", methods=["POST"])
@endpoint
def appeal(decision_id: str) -> Response:
    from chalicelib.api.schemas import AppealBody, parse
    from chalicelib.services import appeals

    request = bp.current_request
    caller = caller_of(request)
    body = parse(AppealBody, json_body(request))
    filed = appeals.file(caller.user_id, decision_id, body.explanation)
    return Response(body=views.plain(filed), status_code=201)


@bp.route("/moderation/appeals", methods=["GET"])
@endpoint
def open_appeals() -> dict[str, Any]:
    from chalicelib.services import appeals, cursors, identity

    request = bp.current_request
    caller = caller_of(request)
    identity.require_moderator(caller)
    params = query_params(request)
    items, next_cursor = appeals.open_appeals(
        caller.user_id, cursors.page_limit(params.get("limit")), params.get("cursor")
    )
    return {"items": [views.plain(i) for i in items], "next_cursor": next_cursor}


@bp.route("/moderation/appeals/{appeal_id}/decision", methods=["POST"])
@endpoint
def decide_appeal(appeal_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas import AppealDecisionBody, parse
    from chalicelib.services import appeals, identity

    request = bp.current_request
    caller = caller_of(request)
    identity.require_moderator(caller)
    body = parse(AppealDecisionBody, json_body(request))
    return views.plain(appeals.decide(caller.user_id, appeal_id, body.action, body.reason))
