"""Operators: terms revisions."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.http import caller_of, endpoint, json_body
from chalicelib.services import identity, terms

bp = Blueprint(__name__)


@bp.route("/admin/terms", methods=["POST"])
@endpoint
def publish_terms() -> Response:
    from chalicelib.api.schemas import TermsBody, parse

    caller = caller_of(bp.current_request)
    identity.require_admin(caller)
    body = parse(TermsBody, json_body(bp.current_request))
    published = terms.publish_terms(body.text, actor=caller.user_id)
    return Response(
        body={"version": published.version, "sha256": published.sha256}, status_code=201
    )
