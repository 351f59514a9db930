"""Was this image made here? Anyone may ask, with the image as the raw request body."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.http import endpoint, source_address

bp = Blueprint(__name__)


@bp.route("/provenance/check", methods=["POST"], content_types=["*/*"])
@endpoint
def check() -> Response:
    # Every content type reaches the view, so one that is not an image answers the contract's
    # 400 invalid_image instead of Chalice's 415.
    from chalicelib.provenance import check as checks

    request = bp.current_request
    raw = request.raw_body or b""
    data = raw.encode() if isinstance(raw, str) else raw
    verdict = checks.check(data, request.headers.get("content-type"), source_address(request))
    body: dict[str, Any] = {
        "made_here": verdict.made_here,
        "public": verdict.public,
        "evidence": verdict.evidence,
    }
    if verdict.image_id is not None:
        body["image_id"] = verdict.image_id
    if verdict.model_name is not None:
        body["model"] = {"name": verdict.model_name, "version": verdict.model_version or ""}
    if verdict.created_at is not None:
        body["created_at"] = verdict.created_at
    return Response(body=body, status_code=200, headers={"Cache-Control": "no-store"})
