"""The caller's own standing."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.api.http import caller_of, endpoint
from chalicelib.services import accounts, consent

bp = Blueprint(__name__)


@bp.route("/me", methods=["GET"])
@endpoint
def me() -> dict[str, Any]:
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
