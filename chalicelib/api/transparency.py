"""The public transparency report (DSA art. 15 and 24): counts for a period."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.http import endpoint, query_params

bp = Blueprint(__name__)


@bp.route("/transparency/report", methods=["GET"])
@endpoint
def report() -> Response:
    from chalicelib.services import transparency

    params = query_params(bp.current_request)
    period = transparency.Period.of_dates(params.get("from"), params.get("to"))
    return Response(
        body=transparency.report(period),
        headers={"Cache-Control": "public, max-age=300"},
    )
