"""The local server's web front: the page, its static files, its config, the dev sign-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.web import WebFront

ENV = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
    "OBJEKTIFY_COGNITO_USER_POOL_ID": "us-east-1_pool",
    "OBJEKTIFY_COGNITO_CLIENT_IDS": "client",
}


LOOPBACK = {"Host": "127.0.0.1:8000"}


@pytest.fixture
def front() -> WebFront:
    return WebFront(env=ENV)


def test_the_root_is_the_page_with_a_strict_policy(front: WebFront) -> None:
    answer = front.answer("GET", "/", {}, b"")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<script type="module" src="/app/main.js">' in answer.body
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "img-src 'self' blob: data: http://127.0.0.1:4566;" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/app/main.js", "text/javascript; charset=utf-8"),
        ("/app/views/gallery.js", "text/javascript; charset=utf-8"),
        ("/app/style.css", "text/css; charset=utf-8"),
        ("/app/icon.svg", "image/svg+xml"),
        ("/app/icon-192.png", "image/png"),
        ("/app/manifest.webmanifest", "application/manifest+json"),
        # At the root, so that its scope covers the page (a worker controls only what lies
        # under its own path).
        ("/sw.js", "text/javascript; charset=utf-8"),
    ],
)
def test_static_files_carry_their_content_type(
    front: WebFront, path: str, content_type: str
) -> None:
    answer = front.answer("GET", path, {}, b"")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == content_type


@pytest.mark.parametrize(
    "path",
    [
        "/app/../local/web.py",
        "/app/%2e%2e/pyproject.toml",
        "/app/..%2f..%2fpyproject.toml",
        "/app/missing.js",
        "/app/",
        "/app/views",
    ],
)
def test_nothing_outside_the_client_folder_is_served(front: WebFront, path: str) -> None:
    answer = front.answer("GET", path, {}, b"")
    assert answer.status == 404
    assert json.loads(answer.body)["code"] == "not_found"


def test_hidden_files_and_unknown_types_are_not_served(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / ".secret.js").write_text("x")
    (tmp_path / "app" / "notes.md").write_text("x")
    front = WebFront(root=tmp_path, env=ENV)
    assert front.answer("GET", "/app/.secret.js", {}, b"").status == 404
    assert front.answer("GET", "/app/notes.md", {}, b"").status == 404


def test_api_paths_stay_with_the_api(front: WebFront) -> None:
    assert front.handles("GET", "/")
    assert front.handles("GET", "/?code=abc&state=xyz")
    assert front.handles("HEAD", "/app/main.js")
    assert front.handles("POST", "/_local/token")
    for method, path in [("GET", "/gallery"), ("POST", "/"), ("GET", "/application"),
                         ("GET", "/me"), ("DELETE", "/app/main.js")]:  # fmt: skip
        assert not front.handles(method, path)


def test_the_client_config_names_the_local_mode(front: WebFront) -> None:
    config = json.loads(front.answer("GET", "/app/config.json", LOOPBACK, b"").body)
    assert config == {"mode": "local", "apiBaseUrl": "", "devSignIn": "/_local/token"}
    sized = WebFront(env={**ENV, "OBJEKTIFY_WEB_PAGE_SIZE": "5"})
    assert json.loads(sized.answer("GET", "/app/config.json", LOOPBACK, b"").body)["pageSize"] == 5


def _token(front: WebFront, body: object, **headers: str) -> tuple[int, dict[str, object]]:
    sent = {"Content-Type": "application/json", "Host": "127.0.0.1:8000", **headers}
    answer = front.answer("POST", "/_local/token", sent, json.dumps(body).encode())
    return answer.status, json.loads(answer.body)


def test_dev_sign_in_wants_json_from_its_own_origin(front: WebFront) -> None:
    plain = {"Content-Type": "text/plain", **LOOPBACK}
    assert front.answer("POST", "/_local/token", plain, b"{}").status == 415
    status, body = _token(front, {"username": "ada"}, Origin="http://evil.example")
    assert (status, body["code"]) == (403, "forbidden")
    assert front.answer("GET", "/_local/token", LOOPBACK, b"").status == 405


def test_dev_sign_in_checks_the_name_and_groups(front: WebFront) -> None:
    status, body = _token(front, {"username": "a b", "groups": ["root"]})
    assert status == 400
    assert body["code"] == "invalid_request"
    assert set(body["details"]) == {"username", "groups"}
    status, body = _token(front, ["ada"])
    assert status == 400


def test_dev_sign_in_issues_a_token_from_the_local_pool(
    front: WebFront, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}

    def issue(state: object, username: str, groups: tuple[str, ...] = ()) -> str:
        seen.update(pool=getattr(state, "user_pool_id", None), username=username, groups=groups)
        return "token-for-ada"

    monkeypatch.setattr("local.tokens.issue_token", issue)
    status, body = _token(
        front,
        {"username": "ada", "groups": ["admins", "moderators"]},
        Origin="http://127.0.0.1:8000",
    )
    assert (status, body) == (200, {"token": "token-for-ada"})
    assert seen == {"pool": "us-east-1_pool", "username": "ada", "groups": ("admins", "moderators")}


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8000", "127.0.0.1", "127.1.2.3:80", "localhost:8000", "[::1]:8000"]
)
def test_dev_sign_in_answers_a_loopback_host(
    front: WebFront, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    monkeypatch.setattr("local.tokens.issue_token", lambda *_, **__: "token")
    status, body = _token(front, {"username": "ada"}, Host=host, Origin=f"http://{host}")
    assert (status, body) == (200, {"token": "token"})


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:8000",
        "localhost.evil.example:8000",
        "127.0.0.1.nip.io:8000",
        "192.168.1.20:8000",
        "0.0.0.0:8000",
        "[::2]:8000",
        "127.0.0.1:8000:80",
        "",
    ],
)
def test_dev_sign_in_refuses_a_rebound_host_even_from_its_own_origin(
    front: WebFront, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    # DNS rebinding: evil.example first served the page, then resolves to 127.0.0.1, so the
    # page's requests reach this server same-origin, naming evil.example as Host and Origin.
    monkeypatch.setattr("local.tokens.issue_token", lambda *_, **__: "token")
    status, body = _token(
        front, {"username": "ada", "groups": ["admins"]}, Host=host, Origin=f"http://{host}"
    )
    assert (status, body["code"]) == (403, "forbidden")
    assert front.answer("GET", "/_local/token", {"Host": host}, b"").status == 403
    no_host = {"Content-Type": "application/json"}
    assert front.answer("POST", "/_local/token", no_host, b'{"username": "ada"}').status == 403


def test_only_the_client_files_are_served_to_any_host(front: WebFront) -> None:
    rebound = {"Host": "evil.example:8000"}
    assert front.answer("GET", "/", rebound, b"").status == 200
    assert front.answer("GET", "/app/main.js", rebound, b"").status == 200
    assert front.answer("GET", "/app/config.json", rebound, b"").status == 403


def test_the_policy_lets_the_page_reach_the_websocket_stand_in() -> None:
    front = WebFront(env={"OBJEKTIFY_WEBSOCKET_URL": "ws://127.0.0.1:9876"})
    policy = front.answer("GET", "/", {}, b"").headers["Content-Security-Policy"]
    assert "connect-src 'self' ws://127.0.0.1:9876;" in policy


def test_the_policy_lets_the_page_post_a_picture_to_the_emulators_presigned_url() -> None:
    front = WebFront(
        env={
            "OBJEKTIFY_WEBSOCKET_URL": "ws://127.0.0.1:9876",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
        }
    )
    policy = front.answer("GET", "/", {}, b"").headers["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:5000 ws://127.0.0.1:9876;" in policy
    assert "form-action 'self';" in policy  # the picture goes by XHR, never a form's navigation
