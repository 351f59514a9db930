"""Response headers: CORS only for configured origins, nosniff, no-store on private answers,
HSTS in AWS, downloads as attachments."""

from __future__ import annotations

import requests

from chalicelib.api import http
from chalicelib.settings import get_settings
from tests.security import figures
from tests.security.world import World


def test_cors_allows_only_the_configured_origins(world: World) -> None:
    owner = world.caller("owner")
    allowed = owner.get("/me", headers={"Origin": "https://app.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Origin" in allowed.headers["Vary"]
    for origin in ("https://evil.example", "null", "https://app.example.evil.example"):
        refused = owner.get("/me", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in refused.headers
    figures.add("header checks", 4, 0)


def test_every_answer_is_nosniff_and_private_ones_are_not_cached(world: World) -> None:
    owner = world.caller("owner")
    for path in ("/me", "/me/generations", f"/generations/{world.shared('private_generation')}"):
        answer = owner.get(path)
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Cache-Control"] == "no-store", path
    for path in ("/gallery", "/health", "/nope"):
        assert owner.get(path).headers["X-Content-Type-Options"] == "nosniff"
    figures.add("header checks", 6, 0)


def test_downloads_are_attachments(world: World) -> None:
    answer = world.caller("anonymous").get(
        f"/gallery/{world.shared('published')}/download", allow_redirects=False
    )
    served = requests.get(answer.headers["Location"], timeout=10)
    assert served.headers["Content-Disposition"].startswith("attachment;")
    figures.add("header checks", 1, 0)


def test_hsts_is_sent_outside_the_local_stage(monkeypatch) -> None:
    from chalice.app import Response

    monkeypatch.setenv("OBJEKTIFY_STAGE", "prod")
    get_settings.cache_clear()
    try:
        answer = http.http_middleware(None, lambda _: Response(body={}))
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        get_settings.cache_clear()
    figures.add("header checks", 1, 0)
