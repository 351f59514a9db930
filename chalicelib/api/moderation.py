"""Moderators: the review queue, decisions, review links, restrictions, the audit log.

Every route here but the review link itself needs a moderator (or operator) whose account is
in good standing: a suspended or banned one gets 403 account_restricted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Request, Response

from chalicelib.api import views
from chalicelib.api.http import (
    base_url,
    caller_of,
    endpoint,
    json_body,
    query_params,
    source_address,
)
from chalicelib.services.errors import InvalidRequest

if TYPE_CHECKING:
    from chalicelib.services import identity

bp = Blueprint(__name__)


def _moderator(request: Request) -> identity.Caller:
    from chalicelib.services import identity

    caller = caller_of(request)
    identity.require_moderator(caller)
    return caller


@bp.route("/moderation/queue", methods=["GET"])
@endpoint
def review_queue() -> dict[str, Any]:
    from chalicelib.services import cursors, moderation

    request = bp.current_request
    caller = _moderator(request)
    params = query_params(request)
    items, next_cursor = moderation.queue(
        caller.user_id, cursors.page_limit(params.get("limit")), params.get("cursor")
    )
    return {"items": [views.plain(i) for i in items], "next_cursor": next_cursor}


@bp.route("/moderation/images/{image_id}", methods=["GET"])
@endpoint
def look_up(image_id: str) -> dict[str, Any]:
    """Any image in any state, with a short-lived URL of its original; `?reason=` is required
    and goes into the audit log with the view."""
    from chalicelib.services import moderation

    request = bp.current_request
    caller = _moderator(request)
    reason = query_params(request).get("reason", "").strip()
    if not reason or len(reason) > 500 or not reason.isprintable():
        raise InvalidRequest(details={"reason": "why you look: 1 to 500 printable characters"})
    return views.plain(moderation.look_up(caller.user_id, image_id, reason))


@bp.route("/moderation/images/{image_id}/decision", methods=["POST"])
@endpoint
def decide(image_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas import DecisionBody, parse
    from chalicelib.services import moderation

    request = bp.current_request
    caller = _moderator(request)
    body = parse(DecisionBody, json_body(request))
    return views.decision(
        moderation.decide(caller.user_id, image_id, body.action, body.reason, body.category)
    )


@bp.route("/moderation/images/{image_id}/review-link", methods=["POST"])
@endpoint
def review_link(image_id: str) -> Response:
    from chalicelib.services import moderation

    request = bp.current_request
    caller = _moderator(request)
    link = moderation.mint_link(caller.user_id, image_id, base_url(request))
    return Response(body=views.plain(link), status_code=201)


@bp.route("/moderation/images/{image_id}/review-link", methods=["DELETE"])
@endpoint
def revoke_review_links(image_id: str) -> Response:
    from chalicelib.api.schemas import RevocationBody, parse
    from chalicelib.services import moderation

    request = bp.current_request
    caller = _moderator(request)
    # The body is optional: `{reason}` for the audit entry.
    reason = None
    if (request.raw_body or b"").strip():
        reason = parse(RevocationBody, json_body(request)).reason
    moderation.revoke_links(caller.user_id, image_id, reason)
    return Response(body="", status_code=204)


@bp.route("/review/{token}", methods=["GET"])
@endpoint
def open_review_link(token: str) -> dict[str, Any]:
    from chalicelib.services import identity, moderation

    request = bp.current_request
    # No token needed; a moderator who sends theirs is named in the audit entry of the view.
    opener = identity.identify(request.headers.get("authorization"))
    opened_by = opener.user_id if opener is not None and opener.is_moderator else None
    return views.plain(moderation.open_link(token, opened_by, source_address(request)))


@bp.route("/moderation/users/{user_id}/restriction", methods=["POST"])
@endpoint
def restrict(user_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas import RestrictionBody, parse
    from chalicelib.services import enforcement

    request = bp.current_request
    caller = _moderator(request)
    body = parse(RestrictionBody, json_body(request))
    if len(user_id) > 128:
        from chalicelib.services.errors import NotFound

        raise NotFound()
    standing = enforcement.restrict(caller, user_id, body.action, body.reason, body.until)
    return views.plain(standing)


@bp.route("/moderation/audit", methods=["GET"])
@endpoint
def audit_log() -> dict[str, Any]:
    from chalicelib.services import audit, cursors

    request = bp.current_request
    _moderator(request)
    params = query_params(request)
    entries, next_cursor = audit.page(cursors.page_limit(params.get("limit")), params.get("cursor"))
    items = [views.plain(audit.described(e)) for e in entries]
    return {"items": items, "next_cursor": next_cursor}
