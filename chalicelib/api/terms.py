"""The Terms of Service as clients read them."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.http import endpoint
from chalicelib.services import terms

bp = Blueprint(__name__)


def terms_view(current: terms.Terms) -> dict[str, Any]:
    return {
        "version": current.version,
        "sha256": current.sha256,
        "published_at": current.published_at_iso,
        "text": current.text,
    }


@bp.route("/terms/current", methods=["GET"])
@endpoint
def current_terms() -> Response:
    current = terms.current_terms()
    return Response(
        body=terms_view(current),
        headers={"Cache-Control": "public, max-age=5", "ETag": f'"{current.sha256}"'},
    )
