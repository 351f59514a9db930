"""Generations: a consented user's prompt becomes an image."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.http import caller_of, endpoint
from chalicelib.services import accounts, consent
from chalicelib.services.errors import ServiceSuspended

bp = Blueprint(__name__)


@bp.route("/generations", methods=["POST"])
@endpoint
def submit_generation() -> Response:
    caller = caller_of(bp.current_request)
    profile = accounts.load_profile(caller.user_id)
    accounts.require_unrestricted(profile)
    consent.require_consent(profile)
    raise ServiceSuspended("Image generation is not switched on yet.", retry_after=3600)
