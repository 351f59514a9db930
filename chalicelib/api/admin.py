"""Operators: terms and privacy policy revisions, and service switches."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.api.http import caller_of, endpoint, json_body

if TYPE_CHECKING:
    from chalicelib.services import flags, terms

bp = Blueprint(__name__)


def _publish(documents: terms.Documents, kind: str) -> Response:
    """An operator publishes the next version of a document; the audit log says who."""
    from chalicelib.api.schemas import TermsBody, parse
    from chalicelib.services import audit, identity

    caller = caller_of(bp.current_request)
    identity.require_admin(caller)
    body = parse(TermsBody, json_body(bp.current_request))
    published = documents.publish(body.text)
    audit.record(
        audit.Event(
            caller.user_id,
            f"{kind}_publish",
            kind,
            str(published.version),
            None,
            {"sha256": published.sha256},
        )
    )
    return Response(
        body={"version": published.version, "sha256": published.sha256}, status_code=201
    )


@bp.route("/admin/terms", methods=["POST"])
@endpoint
def publish_terms() -> Response:
    from chalicelib.services import terms

    return _publish(terms.TERMS, "terms")


@bp.route("/admin/privacy", methods=["POST"])
@endpoint
def publish_privacy_policy() -> Response:
    """A revised privacy policy: shown from now on, with no fresh consent needed."""
    from chalicelib.services import terms

    return _publish(terms.PRIVACY, "privacy")


def _switch_view(switch: flags.Switch) -> dict[str, Any]:
    return {"name": switch.name, "enabled": switch.enabled, "message": switch.message}


@bp.route("/admin/flags", methods=["GET"])
@endpoint
def list_flags() -> dict[str, Any]:
    from chalicelib.services import flags, identity

    identity.require_admin(caller_of(bp.current_request))
    return {"items": [_switch_view(s) for s in flags.list_switches()]}


@bp.route("/admin/flags/{name}", methods=["PUT"])
@endpoint
def set_flag(name: str) -> dict[str, Any]:
    from chalicelib.api.schemas import FlagBody, parse
    from chalicelib.services import audit, flags, identity

    caller = caller_of(bp.current_request)
    identity.require_admin(caller)
    body = parse(FlagBody, json_body(bp.current_request))
    switch = flags.set_switch(name, body.enabled, body.message)
    audit.record(
        audit.Event(
            caller.user_id, "flag_change", "switch", name, body.message, {"enabled": body.enabled}
        )
    )
    return _switch_view(switch)
