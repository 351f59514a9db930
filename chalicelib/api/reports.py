"""Reports of published images by signed-in users."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.http import caller_of, endpoint, json_body

bp = Blueprint(__name__)


@bp.route("/gallery/{image_id}/reports", methods=["POST"])
@endpoint
def report(image_id: str) -> Response:
    from chalicelib.api.schemas import ReportBody, parse
    from chalicelib.services import flags, reports

    flags.require_enabled("reports")
    request = bp.current_request
    caller = caller_of(request)
    body = parse(ReportBody, json_body(request))
    counted = reports.file_report(caller.user_id, image_id, body.reason, body.note)
    return Response(body={"image_id": image_id, "counted": counted}, status_code=202)
