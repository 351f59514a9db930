"""The web client's page values, one home for both places that serve it: the local server
beside the API (local/web.py) and, in AWS, CloudFront in front of the public bucket
(infra/site.py, infra/headers.py). Neither the app's handlers nor the client read them.

`web/` is the client as served: `/` its `index.html`, `/app/...` its static files (a prefix no
API route uses), `/app/config.json` its settings, written by whoever serves it, and `/sw.js` its
service worker (at the root: it keeps for offline use only what lies under its own path).
"""

from __future__ import annotations

from pathlib import Path

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
STATIC_PREFIX = "/app/"
# Files of `web/` served at the root besides `index.html`: a service worker controls only the
# paths under its own, so it must sit at `/` to keep the page itself for offline use.
ROOT_FILES = ("/sw.js",)
# Sent with every page and file of the client besides its Content-Security-Policy, locally and,
# from CloudFront, in AWS. `no-cache`: the modules' names carry no version, so the browser asks
# each time whether its copy is still current (a cheap 304 when it is).
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-cache",
}


def content_security_policy(
    image_origins: list[str], connect_origins: list[str] | None = None
) -> str:
    """Only this origin's scripts and styles; images also from where the API's URLs point;
    fetches also to `connect_origins` (in AWS: the Cognito domain that trades the sign-in code
    for tokens)."""
    images = " ".join(["'self'", "blob:", "data:", *image_origins])
    connect = " ".join(["'self'", *(connect_origins or [])])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            f"connect-src {connect}",
            "manifest-src 'self'",
            "worker-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
