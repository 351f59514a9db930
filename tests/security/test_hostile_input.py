"""Hostile input gets a clear 4xx and changes nothing: every table and bucket is compared before
and after. Hostile model outputs end as failed generations with a reason, never published."""

from __future__ import annotations

import io
import json
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import requests
from PIL import Image

from local.config import StackState, free_port
from tests.security import figures
from tests.security.world import World, consented, finished, notice_body
from tests.support.aws import differences, quiesce, snapshot
from tests.support.stack import running_stack

NASTY_IDS = [
    "..%2F..%2Fetc%2Fpasswd",
    "../x",
    "%00",
    "a%23b",
    "A" * 300,
    "%E2%80%AE",
    "01ARZ3NDEKTSV4RRFFQ69G5FA%00",
    "${jndi:ldap://x}",
    "'%20OR%201=1",
]


def hostile_requests(world: World) -> list[tuple[str, str, str, object, dict[str, str]]]:
    """(caller, method, path, body, headers): each must be refused with a 4xx."""
    image = world.shared("published")
    json_type = {"Content-Type": "application/json"}
    cases: list[tuple[str, str, str, object, dict[str, str]]] = [
        ("owner", "POST", "/generations", b'{"prompt": "' + b"a" * 300_000 + b'"}', json_type),
        (
            "owner",
            "POST",
            "/generations",
            b"prompt=a+tree",
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
        (
            "owner",
            "POST",
            "/generations",
            b"<prompt>a tree</prompt>",
            {"Content-Type": "application/xml"},
        ),
        ("owner", "POST", "/generations", b"a tree", {"Content-Type": "text/plain"}),
        ("owner", "POST", "/generations", b"[" * 100_000 + b"]" * 100_000, json_type),
        ("owner", "POST", "/generations", b'{"prompt": {"$gt": ""}}', json_type),
        ("owner", "POST", "/generations", b'{"prompt": "a\\u0000tree"}', json_type),
        ("owner", "POST", "/generations", b'{"prompt": "\\ud800 lone surrogate"}', json_type),
        ("owner", "POST", "/generations", b'{"prompt": "\xff\xfe not utf-8"}', json_type),
        (
            "owner",
            "POST",
            "/generations",
            json.dumps({"prompt": "\u200b\u200d\u2060\u202e"}).encode(),
            json_type,
        ),
        (
            "owner",
            "POST",
            "/generations",
            json.dumps({"prompt": "\u0301\u0302\u0303"}).encode(),
            json_type,
        ),
        (
            "owner",
            "POST",
            "/generations",
            json.dumps({"prompt": "ok", "seed": 1e400}).encode(),
            json_type,
        ),
        (
            "owner",
            "POST",
            "/generations",
            json.dumps({"prompt": "ok", "width": True}).encode(),
            json_type,
        ),
        *[
            (
                "owner",
                "POST",
                "/generations",
                json.dumps({"prompt": "ok", **bad}).encode(),
                json_type,
            )
            for bad in (
                {"n": 5},
                {"n": 0},
                {"n": "4"},
                {"n": 10**30},
                {"guidance_scale": 0},
                {"guidance_scale": 1e400},
                {"guidance_scale": "7.5"},
                {"scheduler": "rm -rf /"},
                {"scheduler": "EulerDiscreteScheduler"},
                {"scheduler": ["euler"]},
                {"aspect": "1:0"},
                {"aspect": "0:0"},
                {"aspect": "4:3", "width": 512, "height": 384},
                {"width": 64 * 1000},
                {"height": -64},
                {"width": 500},
                {"seed": 2**32 - 1, "n": 2},
                {"remix_of": "../../etc/passwd"},
                {"remix_of": "x" * 10_000},
                {"remix_of": {"$ne": None}},
                {"remix_of": "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
                {"init_image": "../../etc/passwd", "strength": 0.5},
                {"init_image": "x" * 10_000},
                {"init_image": {"$ne": None}},
                {"init_image": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "strength": 0.5},
                {"init_image": world.shared("owner_upload"), "strength": 0.5},  # pending: 404
                {"init_image": world.shared("owner_upload"), "strength": True},
                {"init_image": world.shared("owner_upload"), "strength": 0},
                {"init_image": world.shared("owner_upload"), "remix_of": "x"},
                {"strength": 0.5},
            )
        ],
        ("owner", "POST", "/generations", b'{"prompt": "ok", "guidance_scale": NaN}', json_type),
        (
            "owner",
            "POST",
            "/generations",
            b'{"prompt": "a", "prompt": "b", "status": "x"}',
            json_type,
        ),
        *[
            ("owner", "PATCH", "/me", json.dumps({"display_name": name}).encode(), json_type)
            for name in (
                "a\u0000bc",
                "\u202eevil name",
                "\u200b\u200d\u2060\u200b",
                "\u0301\u0302\u0303",
                "ab",
                "x" * 31,
                "x" * 100_000,
                "Porn King",
                {"$ne": None},
                12345,
                ["a", "b", "c"],
                "___",
            )
        ],
        ("owner", "PATCH", "/me", b'{"display_name": "\ud800 lone surrogate"}', json_type),
        ("owner", "PATCH", "/me", b"display_name=Eve", {"Content-Type": "text/plain"}),
        *[
            ("owner", "PUT", "/me/webhook", json.dumps({"url": url}).encode(), json_type)
            for url in (
                "javascript:alert(1)",
                "http://127.0.0.1:9/\r\nX-Injected: 1",
                "http://127.0.0.1:9/" + "x" * 100_000,
                "http://[::1",
                "http://0.0.0.0:80/",
                "http://10.0.0.1/hook",
                "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                "http://[fd00:ec2::254]/latest/meta-data/",
                "http://[::ffff:a9fe:a9fe]/",
                "https://metadata.google.internal/computeMetadata/v1/",
                "gopher://127.0.0.1:25/_HELO",
                "file:///etc/passwd",
                "http://user:pw@127.0.0.1:9/",
                {"$ne": None},
                12345,
                ["http://127.0.0.1:9/"],
                "",
            )
        ],
        ("owner", "PUT", "/me/webhook", b'{"url": "\ud800"}', json_type),
        ("owner", "PUT", "/me/webhook", b"url=http://127.0.0.1:9/", {"Content-Type": "text/plain"}),
        # Personal API keys: names and scopes that are not allowed, bodies that are not JSON.
        *[
            ("owner", "POST", "/me/api-keys", json.dumps(body).encode(), json_type)
            for body in (
                {"name": "", "scopes": ["read"]},
                {"name": "x" * 101, "scopes": ["read"]},
                {"name": "\u200b\u2060", "scopes": ["read"]},
                {"name": "a\u0000b", "scopes": ["read"]},
                {"name": "evil\u202eyek", "scopes": ["read"]},
                {"name": {"$ne": None}, "scopes": ["read"]},
                {"name": 12345, "scopes": ["read"]},
                {"name": "k", "scopes": []},
                {"name": "k", "scopes": "read"},
                {"name": "k", "scopes": ["admin"]},
                {"name": "k", "scopes": ["READ"]},
                {"name": "k", "scopes": ["read", "read"]},
                {"name": "k", "scopes": ["generate", "read", "moderate"]},
                {"name": "k", "scopes": [None]},
                {"name": "k", "scopes": {"$in": ["read"]}},
                {"name": "k"},
            )
        ],
        ("owner", "POST", "/me/api-keys", b'{"name": "\ud800", "scopes": ["read"]}', json_type),
        ("owner", "POST", "/me/api-keys", b"name=k&scopes=read", {"Content-Type": "text/plain"}),
        ("owner", "GET", "/gallery?limit=0", None, {}),
        ("owner", "GET", "/gallery?limit=100000000000000000000", None, {}),
        ("owner", "GET", "/gallery?cursor=" + "A" * 3000, None, {}),
        ("owner", "GET", "/gallery?cursor=AAAA", None, {}),
        ("owner", "GET", "/gallery?cursor=" + quote("eyJhIjoxfQ==\r\nX: y"), None, {}),
        ("owner", "GET", "/me/generations?cursor=" + "B" * 40, None, {}),
        # Discovery (issue 19): orders, periods, searches and cursors that are not allowed.
        *[
            ("anonymous", "GET", "/gallery?" + query, None, {})
            for query in (
                "sort=" + quote("top' OR 1=1 --"),
                "sort=TOP",
                "sort=top&period=" + quote("day\r\nX: y"),
                "sort=top&period=" + "d" * 5000,
                "period=all",
                "q=",
                "q=" + quote("   ,,, !!! "),
                "q=" + quote("the of and"),
                "q=" + "x" * 101,
                "q=" + quote("\u0000\u200b"),
                "q=" + quote("one two three four five six"),
                "q=" + quote("<script>alert(1)</script> red green blue gold pink"),
                "sort=top&q=fox",
                "q=fox&cursor=" + "A" * 3000,
                "q=fox&cursor=" + quote("eyJzayI6InoifQ"),
                "sort=top&period=day&cursor=" + quote("eyJhIjoxfQ==\r\nX: y"),
            )
        ],
        (
            "other",
            "POST",
            f"/gallery/{image}/reports",
            json.dumps({"reason": "other", "note": "x" * 5000}).encode(),
            json_type,
        ),
        (
            "moderator",
            "POST",
            f"/moderation/users/{'x' * 500}/restriction",
            json.dumps({"action": "ban", "reason": "r"}).encode(),
            json_type,
        ),
        (
            "moderator",
            "POST",
            "/moderation/users/abc/restriction",
            json.dumps(
                {"action": "suspend", "reason": "r", "until": "1999-01-01T00:00:00Z"}
            ).encode(),
            json_type,
        ),
        (  # an unknown user: refused, and no profile is created for it
            "moderator",
            "POST",
            "/moderation/users/00000000-0000-4000-8000-0000000000ff/restriction",
            json.dumps({"action": "ban", "reason": "r"}).encode(),
            json_type,
        ),
        (
            "moderator",
            "DELETE",
            f"/moderation/images/{image}/review-link",
            json.dumps({"reason": "r", "revoked_at": "2000-01-01T00:00:00Z"}).encode(),
            json_type,
        ),
        (
            "admin",
            "PUT",
            "/admin/flags/..%2Fgeneration",
            json.dumps({"enabled": False}).encode(),
            json_type,
        ),
        ("admin", "POST", "/admin/terms", json.dumps({"text": "\u0000"}).encode(), json_type),
        ("admin", "POST", "/admin/privacy", json.dumps({"text": "\u200b"}).encode(), json_type),
        (  # an explanation past its limit, on a decision of the owner's
            "owner",
            "POST",
            f"/me/decisions/{world.shared('decision')}/appeal",
            json.dumps({"explanation": "x" * 5001}).encode(),
            json_type,
        ),
        (  # someone else's decision
            "other",
            "POST",
            f"/me/decisions/{world.shared('decision')}/appeal",
            json.dumps({"explanation": "mine now"}).encode(),
            json_type,
        ),
        (
            "moderator",
            "POST",
            f"/moderation/appeals/{world.shared('appeal')}/decision",
            json.dumps({"action": "overturn", "reason": "r"}).encode(),
            json_type,
        ),
        ("owner", "GET", "/me/decisions?cursor=" + "C" * 40, None, {}),
        # Notices: no good faith, a false one, 1 for true, no notifier, a bad address, an
        # unknown image.
        *[
            ("anonymous", "POST", "/notices", json.dumps(body).encode(), json_type)
            for body in (
                {k: v for k, v in notice_body(image).items() if k != "good_faith"},
                {**notice_body(image), "good_faith": False},
                {**notice_body(image), "good_faith": 1},
                {k: v for k, v in notice_body(image).items() if k != "notifier"},
                {**notice_body(image), "notifier": {"name": "R", "email": "not an address"}},
                {**notice_body(image), "category": "sexual"},
                {**notice_body(image), "explanation": "\u200b"},
                notice_body("01ARZ3NDEKTSV4RRFFQ69G5FAV"),
            )
        ],
        ("anonymous", "GET", f"/notices/{world.shared('notice_token')[:-2]}xx", None, {}),
        # The client configuration is read-only and public: other methods are refused.
        ("anonymous", "POST", "/client-config", b'{"websocket_url": "ws://evil"}', json_type),
        ("owner", "PUT", "/client-config", b'{"websocket_url": "ws://evil"}', json_type),
        ("admin", "DELETE", "/client-config", None, {}),
        ("anonymous", "GET", "/transparency/report?from=2026-12-31&to=2026-01-01", None, {}),
        ("anonymous", "GET", "/transparency/report?from=1900-01-01", None, {}),
        ("anonymous", "GET", "/transparency/report?to=", None, {}),
        ("moderator", "GET", f"/moderation/images/{image}", None, {}),  # no reason
        ("moderator", "GET", f"/moderation/images/{image}?reason=" + "r" * 501, None, {}),
        ("anonymous", "GET", "/transparency/report?to=" + quote("2026-01-01'--"), None, {}),
        # Provenance checks: over 10 MB, not an image type, a bomb, a polyglot, a truncated
        # or disguised file; each refused before it is counted against the address.
        (
            "anonymous",
            "POST",
            "/provenance/check",
            png((64, 64)) + b"\0" * (10 * 1024 * 1024),
            {"Content-Type": "image/png"},
        ),
        ("anonymous", "POST", "/provenance/check", png((64, 64)), {"Content-Type": "text/plain"}),
        ("anonymous", "POST", "/provenance/check", png((64, 64)), {"Content-Type": "image/gif"}),
        ("anonymous", "POST", "/provenance/check", png((64, 64)), json_type),
        ("anonymous", "POST", "/provenance/check", png((64, 64)), {}),
        *[
            ("anonymous", "POST", "/provenance/check", OUTPUTS[kind](), {"Content-Type": kind_type})
            for kind, kind_type in (
                ("bomb", "image/png"),
                ("polyglot", "image/png"),
                ("truncated", "image/png"),
                ("html", "image/png"),
                ("html", "image/jpeg"),
                ("html", "image/webp"),
            )
        ],
        ("anonymous", "POST", "/provenance/check", b"", {"Content-Type": "image/jpeg"}),
        # Uploads: the rights statement and the declared type, nothing else, nothing odd.
        *[
            ("owner", "POST", "/uploads", body, json_type)
            for body in (
                b'{"rights": "own", "attest": "' + b"a" * 300_000 + b'"}',
                b"[" * 100_000 + b"]" * 100_000,
                b'[{"rights": "own", "attest": true}]',
                b'{"rights": {"$ne": ""}, "attest": true}',
                b'{"rights": "own\u0000", "attest": true}',
                b'{"rights": "OWN", "attest": true}',
                b'{"rights": "own", "attest": 1}',
                b'{"rights": "own", "attest": "true"}',
                b'{"rights": "own", "attest": [true]}',
                b'{"rights": "own", "attest": NaN}',
                b'{"rights": "own", "attest": true, "content_type": "image/svg+xml"}',
                b'{"rights": "own", "attest": true, "content_type": "text/html"}',
                b'{"rights": "own", "attest": true, "content_type": "image/png; x=1"}',
                b'{"rights": "own", "attest": true, "content_type": "IMAGE/PNG"}',
                b'{"rights": "own", "attest": true, "content_type": null}',
                b'{"rights": "own", "attest": true, "key": "incoming/../clean/x.png"}',
                b'{"rights": "own", "attest": true, "rights": "mine"}',
                b'{"rights": "\ud800", "attest": true}',
                b'{"rights": "own", "attest": true,',
            )
        ],
        (
            "owner",
            "POST",
            "/uploads",
            b"rights=own&attest=true",
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
        ("owner", "POST", "/uploads", png((64, 64)), {"Content-Type": "image/png"}),
    ]
    for nasty in NASTY_IDS:
        cases += [
            ("owner", "GET", f"/generations/{nasty}", None, {}),
            ("owner", "GET", f"/gallery/{nasty}", None, {}),
            ("owner", "GET", f"/gallery/{nasty}/download", None, {}),
            ("owner", "DELETE", f"/gallery/{nasty}", None, {}),
            ("other", "PUT", f"/gallery/{nasty}/like", None, {}),
            ("other", "DELETE", f"/gallery/{nasty}/like", None, {}),
            (
                "other",
                "POST",
                f"/gallery/{nasty}/reports",
                json.dumps({"reason": "other"}).encode(),
                json_type,
            ),
            ("owner", "GET", f"/me/export/{nasty}", None, {}),
            ("owner", "GET", f"/uploads/{nasty}", None, {}),
            ("owner", "DELETE", f"/me/api-keys/{nasty}", None, {}),
            (
                "moderator",
                "POST",
                f"/moderation/images/{nasty}/decision",
                json.dumps({"action": "remove", "reason": "x"}).encode(),
                json_type,
            ),
            ("anonymous", "GET", f"/review/{nasty}", None, {}),
            ("anonymous", "GET", f"/notices/{nasty}", None, {}),
            ("moderator", "GET", f"/moderation/images/{nasty}?reason=x", None, {}),
            (
                "anonymous",
                "POST",
                "/notices",
                json.dumps(notice_body(unquote(nasty))).encode(),
                json_type,
            ),
            ("moderator", "DELETE", f"/moderation/images/{nasty}/review-link", None, {}),
            (
                "owner",
                "POST",
                f"/me/decisions/{nasty}/appeal",
                json.dumps({"explanation": "x"}).encode(),
                json_type,
            ),
            (
                "moderator",
                "POST",
                f"/moderation/appeals/{nasty}/decision",
                json.dumps({"action": "reverse", "reason": "x"}).encode(),
                json_type,
            ),
        ]
    return cases


def test_hostile_requests_get_a_4xx_and_change_nothing(world: World) -> None:
    cases = hostile_requests(world)
    for role in {case[0] for case in cases}:
        world.caller(role)  # signed up and consented before the snapshot, not during the cases
    quiesce(world.state)
    before = snapshot(world.state)
    wrong: list[str] = []
    for caller, method, path, body, headers in cases:
        api = world.caller(caller)
        answer = api.request(method, path, data=body, headers=headers, allow_redirects=False)
        if not 400 <= answer.status_code < 500:
            wrong.append(f"{method} {unquote(path)[:60]}: {answer.status_code} {answer.text[:100]}")
        elif set(answer.json()) != {"code", "message", "details"}:
            wrong.append(f"{method} {path[:60]}: not the contract's error body")
    quiesce(world.state)
    changed = differences(before, snapshot(world.state))
    # Audit entries of moderators looking are allowed to appear; nothing else may change.
    changed = [c for c in changed if not c.startswith("table:objektify-local-audit")]
    figures.add("hostile inputs", len(cases), len(wrong) + len(changed))
    print(
        f"\nhostile inputs: {len(cases)} tried, {len(wrong)} not refused with a 4xx, "
        f"{len(changed)} state changes left behind"
    )
    assert wrong == [], "\n".join(wrong)
    assert changed == [], "\n".join(changed)


def test_a_prompt_cannot_inject_headers_into_the_download(world: World) -> None:
    owner = world.caller("owner")
    created = owner.post(
        "/generations", json={"prompt": 'x"\r\nSet-Cookie: evil=1\r\n\r\n<html>', "steps": 1}
    )
    assert created.status_code == 202
    image = finished(owner, created.json()["id"])
    answer = owner.get(f"/gallery/{image['id']}/download", allow_redirects=False)
    assert answer.status_code == 302
    assert "Set-Cookie" not in answer.headers
    served = requests.get(answer.headers["Location"], timeout=10)
    disposition = served.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="objektify-') and "\n" not in disposition
    assert "evil" not in served.headers.get("Set-Cookie", "")
    figures.add("hostile inputs", 1, 0)


# Hostile model outputs ---------------------------------------------------------------------------


def bomb_png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
        )

    header = (30000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    body = zlib.compress(b"\x00" * 5_000_000, 9)  # tiny on the wire, huge when decoded
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


OUTPUTS = {
    "bomb": bomb_png,
    "polyglot": lambda: png((512, 512)) + b"PK\x03\x04" + b"\x00" * 64,
    "html": lambda: b"<html><script>alert(1)</script></html>",
    "wrongsize": lambda: png((64, 64)),
    "truncated": lambda: png((512, 512))[:300],
}


class HostileModel:
    """A model container whose output is chosen by the prompt's first word."""

    def __init__(self) -> None:
        self.port = free_port()
        outputs = OUTPUTS

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.end_headers()

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                data = outputs[body["prompt"].split()[0]]()
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def hostile_model_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackState]:
    model = HostileModel()
    env = {"OBJEKTIFY_LOCAL_INFERENCE_URL": f"http://127.0.0.1:{model.port}"}
    with running_stack(Path(tmp_path_factory.mktemp("hostile-model")), env) as state:
        yield state
    model.server.shutdown()


@pytest.mark.parametrize("kind", sorted(OUTPUTS))
def test_a_hostile_model_output_fails_safely(hostile_model_stack: StackState, kind: str) -> None:
    user = consented(hostile_model_stack)
    created = user.post("/generations", json={"prompt": f"{kind} picture"}).json()
    final = finished(user, created["id"])
    assert final["status"] == "failed", final
    assert final["error"]["code"] == "invalid_output"
    assert (
        requests.get(
            f"{hostile_model_stack.api_url}/gallery/{created['id']}", timeout=5
        ).status_code
        == 404
    )
    figures.add("hostile inputs", 1, 0 if final["status"] == "failed" else 1)
