"""The caller's own standing."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.http import caller_of, endpoint

bp = Blueprint(__name__)


@bp.route("/me", methods=["GET"])
@endpoint
def me() -> dict[str, Any]:
    from chalicelib.services import accounts, consent

    caller = caller_of(bp.current_request)
    profile = accounts.load_profile(caller.user_id)
    state = consent.state_of(profile)
    answer: dict[str, Any] = {
        "user_id": caller.user_id,
        "status": accounts.effective_status(profile),
        "roles": sorted(caller.groups),
        "consent": {
            "accepted_version": state.accepted_version,
            "current_version": state.current_version,
            "required": state.required,
        },
    }
    return answer


@bp.route("/me/export", methods=["POST"])
@endpoint
def request_export() -> Response:
    from chalicelib.services import data_export

    caller = caller_of(bp.current_request)
    export_id = data_export.request_export(caller.user_id)
    return Response(
        body={"export_id": export_id, "status": "pending"},
        status_code=202,
        headers={"Location": f"/me/export/{export_id}"},
    )


@bp.route("/me/export/{export_id}", methods=["GET"])
@endpoint
def export_status(export_id: str) -> dict[str, Any]:
    from chalicelib.services import data_export

    caller = caller_of(bp.current_request)
    return data_export.export_status(caller.user_id, export_id)


@bp.route("/me", methods=["DELETE"])
@endpoint
def erase_me() -> Response:
    from chalicelib.services import erasure

    caller = caller_of(bp.current_request)
    erasure.request_erasure(caller.user_id)
    return Response(body={"status": "erasing"}, status_code=202)
