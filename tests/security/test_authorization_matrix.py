"""Every route and every caller, over HTTP on the local stack, against the matrix data file."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from app import app
from tests.security import figures
from tests.security.world import World, consented, notice_body
from tests.support.aws import client as aws_client
from tests.support.aws import name as aws_name
from tests.support.client import Api

MATRIX = yaml.safe_load((Path(__file__).parent / "authorization_matrix.yaml").read_text())
CALLERS: list[str] = MATRIX["callers"]
BANNED_ROW = "privileged requests of a banned moderator"
TARGETS_ROW = "moderator on self, above rank or no one"
REVOKED_ROW = "revoked review links opened"
LAST = ("POST /admin/terms",)
Request = tuple[str, str, Any]


def expected(route: str, caller: str) -> int:
    row = MATRIX["routes"][route]
    return int(row.get(caller, row["default"]))


def registered_routes() -> set[str]:
    return {f"{method} {path}" for path, entries in app.routes.items() for method in entries}


def request_for(route: str, world: World, caller: str, api: Api) -> Request:
    """The concrete request a cell makes: real objects, valid bodies (only access is tested).
    A cell that is expected to succeed at changing an object gets an object of its own."""
    terms = world.caller("owner").get("/terms/current").json()
    owner = world.caller("owner")
    succeeds = expected(route, caller) < 400

    def image() -> str:
        return world.published_image() if succeeds else world.shared("published")

    def in_review() -> str:
        return world.in_review_image() if succeeds else world.shared("in_review")

    builders: dict[str, Callable[[], Request]] = {
        "GET /health": lambda: ("GET", "/health", None),
        "GET /client-config": lambda: ("GET", "/client-config", None),
        "GET /terms/current": lambda: ("GET", "/terms/current", None),
        "GET /me": lambda: ("GET", "/me", None),
        "PATCH /me": lambda: ("PATCH", "/me", {"display_name": f"Matrix {caller}"}),
        "POST /consents": lambda: (
            "POST",
            "/consents",
            {"version": terms["version"], "sha256": terms["sha256"]},
        ),
        "POST /generations": lambda: ("POST", "/generations", {"prompt": "a lamp", "steps": 1}),
        "GET /generations/{generation_id}": lambda: (
            "GET",
            f"/generations/{world.shared('private_generation')}",
            None,
        ),
        "GET /me/generations": lambda: ("GET", "/me/generations", None),
        "POST /uploads": lambda: ("POST", "/uploads", {"rights": "own", "attest": True}),
        "GET /uploads/{upload_id}": lambda: (
            "GET",
            f"/uploads/{world.shared('owner_upload')}",
            None,
        ),
        "GET /gallery": lambda: ("GET", "/gallery", None),
        "GET /gallery/{image_id}": lambda: ("GET", f"/gallery/{world.shared('published')}", None),
        "GET /gallery/{image_id}/download": lambda: (
            "GET",
            f"/gallery/{world.shared('published')}/download",
            None,
        ),
        "DELETE /gallery/{image_id}": lambda: (
            "DELETE",
            f"/gallery/{world.published_image()}",
            None,
        ),
        "POST /gallery/{image_id}/reports": lambda: (
            "POST",
            f"/gallery/{world.published_image()}/reports",
            {"reason": "other"},
        ),
        "PUT /gallery/{image_id}/like": lambda: (
            "PUT",
            f"/gallery/{world.shared('published')}/like",
            None,
        ),
        "DELETE /gallery/{image_id}/like": lambda: (
            "DELETE",
            f"/gallery/{world.shared('published')}/like",
            None,
        ),
        "GET /users/{user_id}/gallery": lambda: ("GET", f"/users/{owner.user_id}/gallery", None),
        "PUT /me/webhook": lambda: ("PUT", "/me/webhook", {"url": "http://127.0.0.1:9/hook"}),
        "GET /me/webhook": lambda: ("GET", "/me/webhook", None),
        "DELETE /me/webhook": lambda: ("DELETE", "/me/webhook", None),
        "POST /me/api-keys": lambda: (
            "POST",
            "/me/api-keys",
            {"name": f"matrix {caller}", "scopes": ["read"]},
        ),
        "GET /me/api-keys": lambda: ("GET", "/me/api-keys", None),
        "DELETE /me/api-keys/{key_id}": lambda: (
            "DELETE",
            "/me/api-keys/"
            + (world.api_key("owner", ("read",))["id"] if succeeds else world.shared("owner_key")),
            None,
        ),
        "POST /me/export": lambda: ("POST", "/me/export", None),
        "GET /me/export/{export_id}": lambda: (
            "GET",
            f"/me/export/{world.shared('owner_export')}",
            None,
        ),
        "DELETE /me": lambda: ("DELETE", "/me", None),
        "GET /moderation/queue": lambda: ("GET", "/moderation/queue", None),
        "GET /moderation/images/{image_id}": lambda: (
            "GET",
            f"/moderation/images/{world.shared('published')}?reason=matrix",
            None,
        ),
        "POST /moderation/images/{image_id}/decision": lambda: (
            "POST",
            f"/moderation/images/{in_review()}/decision",
            {"action": "approve", "reason": "fine"},
        ),
        "POST /moderation/images/{image_id}/review-link": lambda: (
            "POST",
            f"/moderation/images/{world.shared('published')}/review-link",
            None,
        ),
        "DELETE /moderation/images/{image_id}/review-link": lambda: (
            "DELETE",
            f"/moderation/images/{world.shared('published')}/review-link",
            None,
        ),
        "POST /moderation/users/{user_id}/restriction": lambda: (
            "POST",
            f"/moderation/users/{consented(world.state).user_id}/restriction",
            {"action": "suspend", "reason": "matrix"},
        ),
        "GET /moderation/audit": lambda: ("GET", "/moderation/audit", None),
        "POST /notices": lambda: ("POST", "/notices", notice_body(world.shared("published"))),
        "GET /notices/{token}": lambda: ("GET", f"/notices/{world.shared('notice_token')}", None),
        "POST /provenance/check": lambda: ("POST", "/provenance/check", picture_png()),
        "GET /transparency/report": lambda: ("GET", "/transparency/report", None),
        "GET /privacy/current": lambda: ("GET", "/privacy/current", None),
        "POST /admin/privacy": lambda: (
            "POST",
            "/admin/privacy",
            {"text": f"Privacy policy revised by the matrix {time.time()}"},
        ),
        "GET /me/decisions": lambda: ("GET", "/me/decisions", None),
        "POST /me/decisions/{decision_id}/appeal": lambda: (
            "POST",
            f"/me/decisions/{world.decision() if succeeds else world.shared('decision')}/appeal",
            {"explanation": "please look again"},
        ),
        "GET /moderation/appeals": lambda: ("GET", "/moderation/appeals", None),
        "POST /moderation/appeals/{appeal_id}/decision": lambda: (
            "POST",
            f"/moderation/appeals/{world.appeal() if succeeds else world.shared('appeal')}"
            "/decision",
            {"action": "uphold", "reason": "the removal stands"},
        ),
        "GET /admin/flags": lambda: ("GET", "/admin/flags", None),
        "PUT /admin/flags/{name}": lambda: ("PUT", "/admin/flags/reports", {"enabled": True}),
        "POST /admin/terms": lambda: (
            "POST",
            "/admin/terms",
            {"text": f"Terms revised by the matrix {time.time()}"},
        ),
    }
    return builders[route]()


def test_every_registered_route_has_a_row_and_every_row_a_route() -> None:
    rows = set(MATRIX["routes"]) | {MATRIX["review_link"]["route"]}
    assert registered_routes() - rows == set(), "routes without a row in the matrix"
    assert rows - registered_routes() == set(), "rows for routes the app does not register"


def ask_cell(api: Api, request: Request) -> Any:
    """One cell's request: an image body is sent as itself, anything else as JSON."""
    method, path, body = request
    if isinstance(body, bytes):
        return api.request(method, path, data=body, headers={"Content-Type": "image/png"})
    return api.request(method, path, json=body, allow_redirects=False)


def compare_cell(answer: Any, want: int, route: str, caller: str, differing: list[str]) -> None:
    """Note a status other than the matrix's; every refusal has the contract's error shape."""
    if answer.status_code != want:
        differing.append(
            f"{route} as {caller}: {answer.status_code} (expected {want}) {answer.text[:160]}"
        )
    if answer.status_code >= 400:
        assert set(answer.json()) == {"code", "message", "details"}, (route, caller)


def test_every_cell_answers_as_the_matrix_says(world: World) -> None:
    routes = sorted(MATRIX["routes"], key=lambda r: r in LAST)
    differing: list[str] = []
    world.prepare(17)  # cells that succeed at deleting, reporting or deciding use one up
    checked = review_link_cells(world, differing)
    restricted_tried, restricted_through = 0, 0
    for route in routes:
        for caller in CALLERS:
            fresh = route in ("DELETE /me", "POST /consents")
            api = world.make_caller(caller) if fresh else world.caller(caller)
            answer = ask_cell(api, request_for(route, world, caller, api))
            checked += 1
            compare_cell(answer, expected(route, caller), route, caller, differing)
            privileged = expected(route, "moderator") < 400 <= expected(route, "other")
            if caller == "banned_moderator" and privileged:
                # What only a moderator may do, a banned one may not; moderation routes say why.
                restricted_tried += 1
                if answer.status_code < 400:
                    restricted_through += 1
                elif " /moderation/" in route and answer.json()["code"] != "account_restricted":
                    differing.append(f"{route} as {caller}: {answer.json()['code']}")
    for role in ("owner", "other", "moderator", "admin"):
        world.caller(role).accept_current_terms()  # the matrix published a revision last
    figures.add("authorization matrix cells", checked, len(differing))
    figures.add(BANNED_ROW, restricted_tried, restricted_through)
    print(f"\nauthorization matrix: {checked} cells checked, {len(differing)} differing")
    assert differing == [], "\n".join(differing)


def expected_for_key(route: str, caller: str) -> int:
    section = MATRIX["api_keys"]
    row = section["routes"].get(route, {})
    return int(row.get(caller, row.get("default", section["default"])))


def key_request_for(route: str, world: World) -> Request:
    """The request a key's cell makes: as a caller who does not own the objects would make
    it, on shared objects (no cell of a key is meant to change one)."""
    image = world.shared("published")
    if route == "DELETE /gallery/{image_id}":
        return ("DELETE", f"/gallery/{image}", None)
    if route == "POST /gallery/{image_id}/reports":
        return ("POST", f"/gallery/{image}/reports", {"reason": "other"})
    if route == "DELETE /me/api-keys/{key_id}":
        return ("DELETE", f"/me/api-keys/{world.shared('owner_key')}", None)
    return request_for(route, world, "other", world.caller("other"))


def test_api_keys_reach_only_what_their_scopes_allow(world: World) -> None:
    """Every route and every kind of key: a key acts as its owner within its scopes and holds
    none of its owner's roles (a moderator's or operator's key is 403 on their routes)."""
    section = MATRIX["api_keys"]
    assert set(section["routes"]) <= set(MATRIX["routes"]), "key rows for unknown routes"
    differing: list[str] = []
    checked = privileged_tried = privileged_through = 0
    for route in sorted(MATRIX["routes"]):
        for caller in section["callers"]:
            answer = ask_cell(world.caller(caller), key_request_for(route, world))
            checked += 1
            compare_cell(answer, expected_for_key(route, caller), route, caller, differing)
            if (
                caller in ("moderator_key", "admin_key")
                and expected(route, "other") >= 400
                and (expected(route, "moderator") < 400 or expected(route, "admin") < 400)
            ):
                privileged_tried += 1
                privileged_through += int(answer.status_code < 400)
    figures.add("API key cells", checked, len(differing))
    figures.add(
        "moderators' and operators' keys on their routes", privileged_tried, privileged_through
    )
    print(f"\nAPI key matrix: {checked} cells checked, {len(differing)} differing")
    assert differing == [], "\n".join(differing)


def picture_png() -> bytes:
    """An image with texture (a fingerprint to look up) that was not made here."""
    import io

    import numpy as np
    from PIL import Image

    noise = np.random.default_rng(17).random((64, 64, 3)) * 255
    picture = Image.fromarray(noise.astype(np.uint8), "RGB").resize((256, 256))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def review_link_cells(world: World, differing: list[str]) -> int:
    item, other = world.shared("published"), world.published_image()
    token = world.review_token(item)
    payload, signature = token.split(".")
    claims = json.loads(_unb64(payload))
    tampered_claims = {**claims, "e": claims["e"] + 86_400}
    retargeted = {**claims, "i": other}
    expired_signed = expired_token(world, item)
    tokens = {
        "valid": token,
        "tampered": f"{_b64(json.dumps(tampered_claims).encode())}.{signature}",
        "expired": expired_signed,
        "other_item": f"{_b64(json.dumps(retargeted).encode())}.{signature}",
        "revoked": revoked_token(world, other),
    }
    anonymous = Api(world.state)
    for cell, want in MATRIX["review_link"]["cells"].items():
        answer = anonymous.get(f"/review/{tokens[cell]}")
        if answer.status_code != want:
            differing.append(
                f"GET /review/{{token}} {cell}: {answer.status_code} (expected {want})"
            )
        if cell == "valid" and answer.status_code == 200:
            assert answer.json()["image_id"] == item
        if cell == "revoked":
            figures.add(REVOKED_ROW, 1, int(answer.status_code < 400))
    return len(MATRIX["review_link"]["cells"])


def revoked_token(world: World, image_id: str) -> str:
    """A link that opened once, then was revoked by another moderator than its minter."""
    token = world.review_token(image_id)
    assert Api(world.state).get(f"/review/{token}").status_code == 200
    revoked = world.caller("admin").delete(f"/moderation/images/{image_id}/review-link")
    assert revoked.status_code == 204, revoked.text
    return token


def expired_token(world: World, image_id: str) -> str:
    """A correctly signed link whose time is up, signed with the stack's own key."""
    import hmac

    key = (Path(world.state.extra["dir"]) / "signing-key.secret").read_text().strip()
    minted_ms = int((time.time() - 65) * 1000)
    payload = json.dumps(
        {
            "i": image_id,
            "l": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
            "b": "matrix",
            "t": minted_ms,
            "e": minted_ms // 1000 + 60,
            "k": hashlib.sha256(key.encode()).hexdigest()[:8],
        },
        separators=(",", ":"),
    ).encode()
    mac = hmac.new(key.encode(), b"review-link\x00" + payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def test_moderators_act_only_on_others_below_their_rank_who_exist(world: World) -> None:
    """A moderator decides on no image of their own and restricts neither themselves nor a
    moderator or operator; an operator restricts moderators but not operators; an unknown
    or erased user id is 404 and nothing is created for it."""
    state = world.state
    admin = world.caller("admin")
    users = aws_client(state, "dynamodb")
    users_table = aws_name(state, "users")

    def restrict(by: Api, user_id: str, action: str = "ban") -> Any:
        return by.post(
            f"/moderation/users/{user_id}/restriction", json={"action": action, "reason": "cell"}
        )

    def own_image() -> Any:
        moderator = consented(state, "moderators")
        image_id = world.in_review_image(owner=moderator)
        answer = moderator.post(
            f"/moderation/images/{image_id}/decision", json={"action": "approve", "reason": "ok"}
        )
        assert moderator.get(f"/generations/{image_id}").json()["status"] == "in_review"
        return answer

    def restore_self_when_banned() -> Any:
        banned = world.make_caller("banned_moderator")
        answer = restrict(banned, str(banned.user_id), "restore")
        assert banned.get("/me").json()["status"] == "banned"
        return answer

    def erased_user() -> str:
        user = consented(state)
        assert user.delete("/me").status_code == 202
        return str(user.user_id)

    def unchanged(target: Api, answer: Any) -> Any:
        assert target.get("/me").json()["status"] == "active"
        return answer

    def restrict_self() -> Any:
        moderator = consented(state, "moderators")
        return unchanged(moderator, restrict(moderator, str(moderator.user_id)))

    def rank(by: Api, target_group: str) -> Any:
        target = consented(state, target_group)
        answer = restrict(by, str(target.user_id))
        return answer if answer.status_code < 400 else unchanged(target, answer)

    unknown = "00000000-0000-4000-8000-00000000beef"
    cells: dict[str, Callable[[], Any]] = {
        "decide_own_image": own_image,
        "restrict_self": restrict_self,
        "restore_self_when_banned": restore_self_when_banned,
        "moderator_restricts_moderator": lambda: rank(world.caller("moderator"), "moderators"),
        "moderator_restricts_admin": lambda: rank(world.caller("moderator"), "admins"),
        "admin_restricts_moderator": lambda: rank(admin, "moderators"),
        "admin_restricts_admin": lambda: rank(admin, "admins"),
        "restrict_unknown_user": lambda: restrict(world.caller("moderator"), unknown),
        "restrict_erased_user": lambda: restrict(world.caller("moderator"), erased_user()),
    }
    differing, let_through = [], 0
    for cell, want in MATRIX["moderation_targets"].items():
        answer = cells[cell]()
        if answer.status_code != want:
            differing.append(f"{cell}: {answer.status_code} (expected {want}) {answer.text[:160]}")
            let_through += int(want >= 400 and answer.status_code < 400)
    if "Item" in users.get_item(TableName=users_table, Key={"user_id": {"S": unknown}}):
        differing.append("restrict_unknown_user created a profile")
        let_through += 1
    figures.add(TARGETS_ROW, len(cells), let_through)
    assert differing == [], "\n".join(differing)


@pytest.mark.parametrize("route", sorted(MATRIX["routes"]))
def test_the_matrix_names_an_answer_for_every_caller(route: str) -> None:
    for caller in CALLERS:
        assert 100 <= expected(route, caller) < 600
