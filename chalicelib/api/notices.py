"""Notices from anyone, with no account (DSA art. 16), and their signed status URLs."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api import views
from chalicelib.api.http import base_url, endpoint, json_body, source_address

bp = Blueprint(__name__)


@bp.route("/notices", methods=["POST"])
@endpoint
def file_notice() -> Response:
    from chalicelib.api.schemas import NoticeBody, parse
    from chalicelib.services import notices

    request = bp.current_request
    body = parse(NoticeBody, json_body(request))
    filed = notices.file_notice(
        body.image_id,
        body.category,
        body.explanation,
        body.notifier.name,
        body.notifier.email,
        source_address(request),
    )
    status_url = f"{base_url(request)}/notices/{filed.status_token}"
    return Response(
        body={"id": filed.id, "status": filed.status, "status_url": status_url},
        status_code=201,
        headers={"Location": status_url, "Cache-Control": "no-store"},
    )


@bp.route("/notices/{token}", methods=["GET"])
@endpoint
def notice_status(token: str) -> dict[str, Any]:
    from chalicelib.services import notices

    return views.plain(notices.status(token))
