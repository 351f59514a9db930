"""The Terms of Service and the privacy policy as clients read them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.api.http import endpoint

if TYPE_CHECKING:
    from chalicelib.services import terms

bp = Blueprint(__name__)


def terms_view(current: terms.Terms) -> dict[str, Any]:
    return {
        "version": current.version,
        "sha256": current.sha256,
        "published_at": current.published_at_iso,
        "text": current.text,
    }


def _current(documents: terms.Documents) -> Response:
    current = documents.current()
    return Response(
        body=terms_view(current),
        headers={"Cache-Control": "public, max-age=5", "ETag": f'"{current.sha256}"'},
    )


@bp.route("/terms/current", methods=["GET"])
@endpoint
def current_terms() -> Response:
    from chalicelib.services import terms

    return _current(terms.TERMS)


@bp.route("/privacy/current", methods=["GET"])
@endpoint
def current_privacy_policy() -> Response:
    from chalicelib.services import terms

    return _current(terms.PRIVACY)
