"""The caller's own standing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.api.http import caller_of, endpoint, json_body

if TYPE_CHECKING:
    from chalicelib.services.identity import Caller

bp = Blueprint(__name__)


@bp.route("/me", methods=["GET"])
@endpoint
def me() -> dict[str, Any]:
    from chalicelib.services import accounts

    caller = caller_of(bp.current_request)
    return _standing(caller, accounts.load_profile(caller.user_id))


@bp.route("/me", methods=["PATCH"])
@endpoint
def update_me() -> dict[str, Any]:
    from chalicelib.api.schemas import ProfileBody, parse
    from chalicelib.services import display_names

    request = bp.current_request
    caller = caller_of(request)
    body = parse(ProfileBody, json_body(request))
    return _standing(caller, display_names.set_name(caller.user_id, body.display_name))


def _standing(caller: Caller, profile: Any) -> dict[str, Any]:
    """The caller's profile as `GET /me` and `PATCH /me` answer it."""
    from chalicelib.services import accounts, consent

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
    if profile is not None and profile.display_name is not None:
        answer["display_name"] = profile.display_name
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
