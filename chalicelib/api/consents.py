"""Accepting the Terms of Service."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.http import caller_of, endpoint, json_body, source_address

bp = Blueprint(__name__)


@bp.route("/consents", methods=["POST"])
@endpoint
def accept_terms() -> Response:
    from chalicelib.api.schemas import ConsentBody, parse
    from chalicelib.services import consent

    request = bp.current_request
    caller = caller_of(request)
    body = parse(ConsentBody, json_body(request))
    accepted = consent.accept(
        caller.user_id,
        body.version,
        body.sha256,
        source_address(request),
        request.headers.get("user-agent"),
    )
    return Response(
        body={"version": accepted.version, "accepted_at": accepted.accepted_at}, status_code=201
    )
