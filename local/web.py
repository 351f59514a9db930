"""The web client as the local stack serves it, beside the API on the same port.

`/` is the page, `/app/...` its static files from `web/app/` (a prefix no API route uses),
`/app/config.json` the client's settings for this stack, and `POST /_local/token` a development
sign-in that asks the local Cognito user pool for a token. None of this is in the Chalice app:
in AWS the client is a folder of static files in the public bucket behind CloudFront, and people
sign in through the Cognito hosted UI.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from chalicelib.web_front import (
    PAGE_HEADERS,
    ROOT_FILES,
    STATIC_PREFIX,
    WEB_ROOT,
    content_security_policy,
)
from local.config import REGION, StackState

TOKEN_PATH = "/_local/token"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
}
USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# `name` or `[v6]`, with an optional port: what a Host header holds.
HOST = re.compile(r"^(?:(?P<name>[a-z0-9.-]+)|\[(?P<v6>[0-9a-f:.]+)\])(?::[0-9]{1,5})?$")


def loopback_host(host: str | None) -> bool:
    """A Host header naming this machine's loopback: `localhost`, 127.0.0.0/8 or `[::1]`, with
    any port. A page from a DNS-rebound name (evil.example resolving to 127.0.0.1) sends its own
    name here, which is how such a page is told from the client this server serves."""
    match = HOST.match((host or "").strip().lower())
    if match is None:
        return False
    name, v6 = match["name"], match["v6"]
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name or v6)
    except ValueError:
        return False
    return address.is_loopback and (address.version == 6) == (v6 is not None)


def _json(status: int, payload: object) -> Answer:
    return Answer(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})


def _error(status: int, code: str, message: str, details: dict[str, str] | None = None) -> Answer:
    return _json(status, {"code": code, "message": message, "details": details or {}})


class WebFront:
    """Answers the paths that belong to the web client; everything else is the API's."""

    def __init__(self, root: Path = WEB_ROOT, env: Mapping[str, str] | None = None) -> None:
        self.root = root.resolve()
        self.env = dict(os.environ if env is None else env)
        origins = [
            _origin(self.env.get("AWS_ENDPOINT_URL", "")),
            _origin(self.env.get("OBJEKTIFY_PUBLIC_BASE_URL", "")),
        ]
        # The WebSocket stand-in listens on a port of its own: a connect-src of its own; the
        # web client posts an uploaded picture straight to the emulator's presigned POST URL.
        sockets = [
            _origin(self.env.get("OBJEKTIFY_WEBSOCKET_URL", "")),
            _origin(self.env.get("AWS_ENDPOINT_URL", "")),
        ]
        self.csp = content_security_policy(
            sorted({o for o in origins if o}), sorted({o for o in sockets if o})
        )

    def handles(self, method: str, raw_path: str) -> bool:
        path = urlsplit(raw_path).path
        if path == TOKEN_PATH:
            return True
        return method in ("GET", "HEAD") and (
            path == "/" or path in ROOT_FILES or path.startswith(STATIC_PREFIX)
        )

    def answer(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        path = urlsplit(raw_path).path
        if path in (TOKEN_PATH, STATIC_PREFIX + "config.json"):
            # Not a file from the client's folder (the sign-in mints tokens, admins' too): only
            # for a page this machine's loopback served, whatever name resolves to it.
            host = next((v for k, v in headers.items() if k.lower() == "host"), None)
            if not loopback_host(host):
                return _error(403, "forbidden", "Only for this machine's loopback address.")
        if path == TOKEN_PATH:
            if method != "POST":
                return _error(405, "method_not_allowed", "Use POST.")
            return self.dev_token(headers, body)
        if path == STATIC_PREFIX + "config.json":
            answer = _json(200, self.client_config())
        elif path == "/":
            answer = self.static_file("index.html")
        elif path in ROOT_FILES:
            answer = self.static_file(path.lstrip("/"))
        else:
            answer = self.static_file("app/" + unquote(path[len(STATIC_PREFIX) :]))
        answer.headers.update(self.security_headers())
        return answer

    def security_headers(self) -> dict[str, str]:
        return {"Content-Security-Policy": self.csp, **PAGE_HEADERS}

    def client_config(self) -> dict[str, object]:
        """What the infra writes as `app/config.json` in AWS, with this stack's values."""
        config: dict[str, object] = {"mode": "local", "apiBaseUrl": "", "devSignIn": TOKEN_PATH}
        page_size = self.env.get("OBJEKTIFY_WEB_PAGE_SIZE")
        if page_size:
            config["pageSize"] = int(page_size)
        return config

    def static_file(self, relative: str) -> Answer:
        target = (self.root / relative).resolve()
        content_type = CONTENT_TYPES.get(target.suffix)
        if not self._servable(target) or content_type is None:
            return _error(404, "not_found", "No such file.")
        return Answer(200, target.read_bytes(), {"Content-Type": content_type})

    def _servable(self, target: Path) -> bool:
        """A file under the root, none of whose path parts is hidden (`..` resolves away)."""
        if not target.is_relative_to(self.root) or not target.is_file():
            return False
        return not any(part.startswith(".") for part in target.relative_to(self.root).parts)

    def dev_token(self, headers: Mapping[str, str], body: bytes) -> Answer:
        """A token for a local user: `{username, groups}` → `{token}`."""
        lowered = {k.lower(): v for k, v in headers.items()}
        # A JSON content type makes a cross-site request need a preflight, which nobody answers.
        if not lowered.get("content-type", "").startswith("application/json"):
            return _error(415, "unsupported_media_type", "Send the body as application/json.")
        origin = lowered.get("origin")
        if origin and urlsplit(origin).netloc != lowered.get("host"):
            return _error(403, "forbidden", "Cross-origin sign-in is not allowed.")
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return _error(400, "invalid_request", "A JSON object body is required.")
        username, groups = payload.get("username"), payload.get("groups", [])
        problems: dict[str, str] = {}
        if not isinstance(username, str) or not USERNAME.match(username):
            problems["username"] = "1 to 64 letters, digits, '.', '_' or '-'"
        if not isinstance(groups, list) or not set(groups) <= {"moderators", "admins"}:
            problems["groups"] = "a list of 'moderators' and 'admins'"
        if problems:
            return _error(400, "invalid_request", "Some fields are not valid.", problems)
        from local.tokens import issue_token

        try:
            token = issue_token(self.stack_state(), str(username), tuple(sorted(set(groups))))
        except Exception:
            return _error(503, "unavailable", "The local user pool did not answer; try again.")
        return _json(200, {"token": token})

    def stack_state(self) -> StackState:
        env = self.env
        return StackState(
            api_url="",
            aws_endpoint=env["AWS_ENDPOINT_URL"],
            user_pool_id=env["OBJEKTIFY_COGNITO_USER_POOL_ID"],
            client_id=env["OBJEKTIFY_COGNITO_CLIENT_IDS"].split(",")[0],
            region=env.get("AWS_REGION", REGION),
        )
