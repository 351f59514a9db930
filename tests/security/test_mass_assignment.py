"""Fields a caller must not set are refused with 400 invalid_request on every write route."""

from __future__ import annotations

from tests.security import figures
from tests.security.world import World, notice_body

FORBIDDEN = {
    "owner": "someone-else",
    "owner_id": "someone-else",
    "user_id": "someone-else",
    "status": "published",
    "state": "published",
    "strikes": 0,
    "role": "admins",
    "groups": ["admins"],
    "created_at": "2000-01-01T00:00:00Z",
    "scan_result": {"outcome": "published"},
    "moderation_outcome": "approved",
    "model": {"name": "x", "version": "y"},
    "batch": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"],
    "remixes": 1000,
    "guidance": 7.5,
    "sampler": "euler",
    "display_name_key": "someoneelse",
    "creator_name": "Someone Else",
    "secret": "whsec_chosen-by-the-caller",
    "deliveries": [],
    "key": "objk_chosen-by-the-caller-chosen-by-the-caller-abcdef",
    "key_hash": "0" * 64,
    "prefix": "objk_chosen",
    "last_used_at": "2000-01-01T00:00:00Z",
    # An upload's record: set by the service and its scan only.
    "upload_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "incoming_key": "incoming/01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "clean_key": "clean/01ARZ3NDEKTSV4RRFFQ69G5FAV.png",
    "fingerprint": "0" * 64,
    "used": True,
    "attested_at": "2000-01-01T00:00:00Z",
    "expires_at": "2099-01-01T00:00:00Z",
}


def write_routes(world: World) -> list[tuple[str, str, str, dict]]:
    terms = world.caller("owner").get("/terms/current").json()
    image = world.shared("published")
    return [
        (
            "unconsented",
            "POST",
            "/consents",
            {"version": terms["version"], "sha256": terms["sha256"]},
        ),
        ("owner", "POST", "/generations", {"prompt": "a tree"}),
        (
            "owner",
            "POST",
            "/generations",
            {
                "prompt": "a tree",
                "n": 2,
                "guidance_scale": 5,
                "scheduler": "ddim",
                "aspect": "16:9",
            },
        ),
        ("other", "POST", "/generations", {"remix_of": image, "seed": 3}),
        (
            "owner",
            "POST",
            "/generations",
            {"prompt": "a tree", "init_image": world.shared("owner_upload"), "strength": 0.4},
        ),
        ("owner", "POST", "/uploads", {"rights": "own", "attest": True}),
        (
            "owner",
            "POST",
            "/uploads",
            {"rights": "licensed", "attest": True, "content_type": "image/webp"},
        ),
        ("owner", "PATCH", "/me", {"display_name": "Mass Assigner"}),
        ("owner", "PUT", "/me/webhook", {"url": "http://127.0.0.1:9/hook"}),
        ("owner", "POST", "/me/api-keys", {"name": "Mass Assigner", "scopes": ["read"]}),
        ("other", "POST", f"/gallery/{image}/reports", {"reason": "other"}),
        (
            "moderator",
            "POST",
            f"/moderation/images/{image}/decision",
            {"action": "approve", "reason": "x"},
        ),
        (
            "moderator",
            "POST",
            f"/moderation/users/{world.caller('other').user_id}/restriction",
            {"action": "restore", "reason": "x"},
        ),
        ("moderator", "DELETE", f"/moderation/images/{image}/review-link", {"reason": "x"}),
        ("admin", "POST", "/admin/terms", {"text": "New terms"}),
        ("admin", "POST", "/admin/privacy", {"text": "A new privacy policy"}),
        ("admin", "PUT", "/admin/flags/reports", {"enabled": True}),
        ("anonymous", "POST", "/notices", notice_body(image)),
        (
            "owner",
            "POST",
            f"/me/decisions/{world.shared('decision')}/appeal",
            {"explanation": "look again"},
        ),
        (
            "moderator",
            "POST",
            f"/moderation/appeals/{world.shared('appeal')}/decision",
            {"action": "uphold", "reason": "x"},
        ),
    ]


def test_every_write_route_refuses_fields_a_caller_may_not_set(world: World) -> None:
    tried, let_through = 0, []
    for caller, method, path, body in write_routes(world):
        for field, value in FORBIDDEN.items():
            answer = world.caller(caller).request(method, path, json={**body, field: value})
            tried += 1
            details = answer.json().get("details", {}) if answer.status_code == 400 else {}
            if answer.status_code != 400 or field not in details:
                let_through.append(f"{method} {path} with {field}: {answer.status_code}")
    figures.add("mass assignment attempts", tried, len(let_through))
    print(f"\nmass assignment: {tried} tried, {len(let_through)} let through")
    assert let_through == []
