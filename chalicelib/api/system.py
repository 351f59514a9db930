"""Liveness."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
def health() -> dict[str, Any]:
    return {"status": "ok"}
