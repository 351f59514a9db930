"""Uploads: an image a signed-in user brings to start a generation from. The bytes go straight
to S3 through a presigned POST; the API only records the upload and shows its state."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.http import caller_of, endpoint, json_body

bp = Blueprint(__name__)


@bp.route("/uploads", methods=["POST"])
@endpoint
def start_upload() -> Response:
    from chalicelib.api.schemas import UploadBody, parse
    from chalicelib.services import flags, submission, uploads

    # The same checks, in the same order, as POST /generations: an upload only serves one.
    flags.require_enabled("generation")
    request = bp.current_request
    caller = caller_of(request)
    submission.admit(caller.user_id)
    body = parse(UploadBody, json_body(request))
    started = uploads.start(caller.user_id, body.rights, body.content_type)
    return Response(
        body={
            "upload_id": started.upload_id,
            "url": started.url,
            "fields": started.fields,
            "expires_at": started.expires_at,
        },
        status_code=201,
        headers={"Location": f"/uploads/{started.upload_id}"},
    )


@bp.route("/uploads/{upload_id}", methods=["GET"])
@endpoint
def get_upload(upload_id: str) -> dict[str, Any]:
    from chalicelib.services import uploads

    caller = caller_of(bp.current_request)
    return uploads.owner_view(uploads.owned(caller.user_id, upload_id))
