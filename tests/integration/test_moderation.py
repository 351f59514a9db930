"""Human moderation, enforcement, terms revision and service switches through the local stack."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from local.config import StackState
from tests.support.client import Api, anonymous, consented, sign_in
from tests.support.stack import running_stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
FINAL = {"published", "in_review", "rejected", "failed", "removed"}


def published_image(api: Api) -> str:
    created = api.post(
        "/generations",
        json={
            "prompt": f"a pebble beach {uuid.uuid4().hex[:6]}",
            "steps": 1,
            "width": 512,
            "height": 512,
        },
    ).json()

    def done() -> dict | None:
        body = api.get(f"/generations/{created['id']}").json()
        return body if body["status"] in FINAL else None

    final = wait_for(done, timeout=90, what="the image to publish")
    assert final["status"] == "published", final
    return str(created["id"])


def reported_into_review(state: StackState) -> tuple[Api, str]:
    creator = consented(state)
    image_id = published_image(creator)
    for _ in range(2):
        answer = consented(state).post(f"/gallery/{image_id}/reports", json={"reason": "violent"})
        assert answer.status_code == 202, answer.text
    assert anonymous(state).get(f"/gallery/{image_id}").status_code == 404
    return creator, image_id


def test_reports_take_an_image_into_review_and_one_user_counts_once(mod_stack: StackState) -> None:
    creator = consented(mod_stack)
    image_id = published_image(creator)
    reporter = consented(mod_stack)
    first = reporter.post(
        f"/gallery/{image_id}/reports", json={"reason": "violent", "note": "gore"}
    )
    again = reporter.post(f"/gallery/{image_id}/reports", json={"reason": "violent"})
    assert first.status_code == again.status_code == 202
    assert again.json()["counted"] is False
    assert (
        anonymous(mod_stack).get(f"/gallery/{image_id}").status_code == 200
    )  # one distinct report
    consented(mod_stack).post(f"/gallery/{image_id}/reports", json={"reason": "hateful"})
    assert anonymous(mod_stack).get(f"/gallery/{image_id}").status_code == 404
    assert creator.get(f"/generations/{image_id}").json()["status"] == "in_review"
    bad = reporter.post(f"/gallery/{image_id}/reports", json={"reason": "ugly"})
    assert bad.status_code in (400, 404)


def test_a_report_reason_outside_the_list_is_invalid(mod_stack: StackState) -> None:
    creator = consented(mod_stack)
    image_id = published_image(creator)
    answer = consented(mod_stack).post(f"/gallery/{image_id}/reports", json={"reason": "ugly"})
    assert answer.status_code == 400
    assert "reason" in answer.json()["details"]


def test_the_queue_serves_the_original_and_audits_the_view(mod_stack: StackState) -> None:
    _, image_id = reported_into_review(mod_stack)
    moderator = sign_in(mod_stack, "moderators")
    queue = moderator.get("/moderation/queue?limit=50")
    assert queue.status_code == 200
    item = next(i for i in queue.json()["items"] if i["image_id"] == image_id)
    assert item["reports"]["count"] == 2 and item["reports"]["reasons"] == ["violent"]
    assert "X-Amz-Expires=" in item["review_url"]
    expires = int(item["review_url"].split("X-Amz-Expires=")[1].split("&")[0])
    assert expires <= 900
    image = requests.get(item["review_url"], timeout=10)
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    audit = moderator.get("/moderation/audit?limit=100").json()["items"]
    assert any(
        e["action"] == "view" and e["target"]["id"] == image_id and e["actor"] == moderator.user_id
        for e in audit
    )


def test_plain_users_cannot_moderate_and_moderators_cannot_administer(
    mod_stack: StackState,
) -> None:
    user, moderator = consented(mod_stack), sign_in(mod_stack, "moderators")
    assert user.get("/moderation/queue").status_code == 403
    assert user.get("/moderation/audit").status_code == 403
    assert (
        user.post(
            "/moderation/users/x/restriction", json={"action": "ban", "reason": "x"}
        ).status_code
        == 403
    )
    assert moderator.get("/admin/flags").status_code == 403
    assert moderator.put("/admin/flags/generation", json={"enabled": False}).status_code == 403


def test_signed_review_links_show_one_item_and_refuse_tampering_and_expiry(
    mod_stack: StackState,
) -> None:
    _, image_id = reported_into_review(mod_stack)
    moderator = sign_in(mod_stack, "moderators")
    minted = moderator.post(f"/moderation/images/{image_id}/review-link")
    assert minted.status_code == 201
    url = minted.json()["url"]
    token = url.rsplit("/review/", 1)[1]
    shown = anonymous(mod_stack).get(f"/review/{token}")
    assert shown.status_code == 200
    assert shown.json()["image_id"] == image_id
    assert requests.get(shown.json()["image_url"], timeout=10).content.startswith(b"\x89PNG")
    payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["e"] += 3600
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = anonymous(mod_stack).get(f"/review/{forged}.{signature}")
    assert tampered.status_code == 403 and tampered.json()["code"] == "invalid_signature"
    # The link grants sight, no action.
    assert (
        anonymous(mod_stack)
        .post(
            f"/moderation/images/{image_id}/decision",
            json={"action": "approve", "reason": "x"},
            headers={"Authorization": f"Bearer {token}"},
        )
        .status_code
        == 401
    )


def test_an_expired_review_link_is_gone(tmp_path: Path) -> None:
    with running_stack(
        tmp_path / "s", {"OBJEKTIFY_REVIEW_LINK_SECONDS": "1", "OBJEKTIFY_REPORT_THRESHOLD": "1"}
    ) as state:
        creator = consented(state)
        image_id = published_image(creator)
        consented(state).post(f"/gallery/{image_id}/reports", json={"reason": "other"})
        token = (
            sign_in(state, "moderators")
            .post(f"/moderation/images/{image_id}/review-link")
            .json()["url"]
            .rsplit("/", 1)[1]
        )
        time.sleep(2.1)
        gone = anonymous(state).get(f"/review/{token}")
        assert gone.status_code == 410 and gone.json()["code"] == "link_expired"


def test_approve_publishes_and_remove_takes_it_from_every_path(mod_stack: StackState) -> None:
    creator, image_id = reported_into_review(mod_stack)
    moderator = sign_in(mod_stack, "moderators")
    approved = moderator.post(
        f"/moderation/images/{image_id}/decision", json={"action": "approve", "reason": "harmless"}
    )
    assert approved.status_code == 200 and approved.json()["status"] == "published"
    public = anonymous(mod_stack)
    assert public.get(f"/gallery/{image_id}").status_code == 200
    removed = moderator.post(
        f"/moderation/images/{image_id}/decision",
        json={"action": "remove", "reason": "violent after all", "category": "violent"},
    )
    assert removed.status_code == 200 and removed.json()["status"] == "removed"
    assert public.get(f"/gallery/{image_id}").status_code == 404
    assert public.get(f"/gallery/{image_id}/download", allow_redirects=False).status_code == 404
    assert image_id not in [i["id"] for i in public.get("/gallery?limit=100").json()["items"]]
    assert public.get(f"/users/{creator.user_id}/gallery").json()["items"] == []
    mine = creator.get(f"/generations/{image_id}").json()
    assert mine["status"] == "removed" and mine["category"] == "violent"
    actions = [
        (e["action"], e["target"]["id"])
        for e in moderator.get("/moderation/audit?limit=100").json()["items"]
    ]
    assert ("approve", image_id) in actions and ("remove", image_id) in actions


def test_strikes_suspend_automatically_and_a_moderator_restores(mod_stack: StackState) -> None:
    creator = consented(mod_stack)
    moderator = sign_in(mod_stack, "moderators")
    for _ in range(2):
        image_id = published_image(creator)
        moderator.post(
            f"/moderation/images/{image_id}/decision",
            json={"action": "remove", "reason": "off-policy", "category": "sexual"},
        )
    me = creator.get("/me").json()
    assert me["status"] == "suspended"
    refused = creator.post("/generations", json={"prompt": "a tree"})
    assert refused.status_code == 403 and refused.json()["code"] == "account_restricted"
    restored = moderator.post(
        f"/moderation/users/{creator.user_id}/restriction",
        json={"action": "restore", "reason": "appeal granted"},
    )
    assert restored.status_code == 200 and restored.json()["status"] == "active"
    assert creator.get("/me").json()["status"] == "active"
    audit = moderator.get("/moderation/audit?limit=100").json()["items"]
    assert any(
        e["actor"] == "policy" and e["action"] == "suspend" and e["target"]["id"] == creator.user_id
        for e in audit
    )


def test_a_suspended_user_cannot_generate_report_or_consent(mod_stack: StackState) -> None:
    user = consented(mod_stack)
    image_id = published_image(consented(mod_stack))
    moderator = sign_in(mod_stack, "moderators")
    until = "2099-01-01T00:00:00Z"
    answer = moderator.post(
        f"/moderation/users/{user.user_id}/restriction",
        json={"action": "suspend", "reason": "spam", "until": until},
    )
    assert answer.status_code == 200 and answer.json()["until"].startswith("2099-01-01")
    for response in (
        user.post("/generations", json={"prompt": "a tree"}),
        user.post(f"/gallery/{image_id}/reports", json={"reason": "other"}),
        user.post("/consents", json={"version": 1, "sha256": "0" * 64}),
    ):
        assert response.status_code == 403 and response.json()["code"] == "account_restricted"
    banned = moderator.post(
        f"/moderation/users/{user.user_id}/restriction", json={"action": "ban", "reason": "repeat"}
    )
    assert banned.json()["status"] == "banned"
    assert user.get("/me").json()["status"] == "banned"


def test_switches_turn_parts_off_with_the_operators_message(mod_stack: StackState) -> None:
    admin = sign_in(mod_stack, "admins")
    user = consented(mod_stack)
    listed = admin.get("/admin/flags").json()["items"]
    assert {f["name"] for f in listed} >= {"generation", "gallery", "reports"}
    try:
        off = admin.put(
            "/admin/flags/generation", json={"enabled": False, "message": "Back at noon."}
        )
        assert off.status_code == 200 and off.json()["enabled"] is False

        def suspended() -> list[requests.Response] | None:
            answer = user.post("/generations", json={"prompt": "a tree"})
            return [answer] if answer.status_code == 503 else None  # a 503 Response is falsy

        [answer] = wait_for(suspended, timeout=10, what="generation to switch off")
        assert answer.json()["code"] == "service_suspended"
        assert answer.json()["message"] == "Back at noon."
        assert int(answer.headers["Retry-After"]) > 0
        assert anonymous(mod_stack).get("/gallery").status_code == 200  # the rest keeps working
        admin.put("/admin/flags/gallery", json={"enabled": False})
        wait_for(
            lambda: anonymous(mod_stack).get("/gallery").status_code == 503,
            timeout=10,
            what="the gallery to switch off",
        )
    finally:
        for name in ("generation", "gallery"):
            admin.put(f"/admin/flags/{name}", json={"enabled": True})
    wait_for(
        lambda: user.post("/generations", json={"prompt": "a tree"}).status_code == 202,
        timeout=10,
        what="generation to switch back on",
    )
    assert admin.put("/admin/flags/nope", json={"enabled": True}).status_code == 404
    audit = admin.get("/moderation/audit?limit=100").json()["items"]
    assert any(e["action"] == "flag_change" and e["target"]["id"] == "generation" for e in audit)


def test_revised_terms_gate_everyone_and_keep_the_history(mod_stack: StackState) -> None:
    admin = sign_in(mod_stack, "admins")
    user = consented(mod_stack)
    published = admin.post("/admin/terms", json={"text": f"Terms revision {uuid.uuid4()}"})
    assert published.status_code == 201
    version = published.json()["version"]
    refused = user.post("/generations", json={"prompt": "a tree"})
    assert refused.status_code == 403 and refused.json()["details"]["current_version"] == version
    user.accept_current_terms()
    assert user.post("/generations", json={"prompt": "a tree"}).status_code == 202


def _queued_ids(moderator: Api) -> set[str]:
    return {i["image_id"] for i in moderator.get("/moderation/queue?limit=100").json()["items"]}


def test_an_image_awaiting_a_decision_cannot_be_deleted_by_its_creator(
    mod_stack: StackState,
) -> None:
    creator, image_id = reported_into_review(mod_stack)
    moderator = sign_in(mod_stack, "moderators")
    refused = creator.delete(f"/gallery/{image_id}")
    assert refused.status_code == 409 and refused.json()["code"] == "under_review"
    assert image_id in _queued_ids(moderator)  # still there, and still decidable
    removed = moderator.post(
        f"/moderation/images/{image_id}/decision",
        json={"action": "remove", "reason": "violent", "category": "violent"},
    )
    assert removed.status_code == 200 and removed.json()["status"] == "removed"
    assert image_id not in _queued_ids(moderator)
    audit = moderator.get("/moderation/audit?limit=100").json()["items"]
    assert any(e["action"] == "remove" and e["target"]["id"] == image_id for e in audit)
    assert creator.delete(f"/gallery/{image_id}").status_code == 204  # decided: deletable


def test_a_moderators_delete_is_a_decision_with_its_audit_entry(mod_stack: StackState) -> None:
    creator = consented(mod_stack)
    image_id = published_image(creator)
    moderator = sign_in(mod_stack, "moderators")
    assert moderator.delete(f"/gallery/{image_id}").status_code == 204
    assert anonymous(mod_stack).get(f"/gallery/{image_id}").status_code == 404
    assert creator.get(f"/generations/{image_id}").json()["status"] == "removed"
    audit = moderator.get("/moderation/audit?limit=100").json()["items"]
    assert any(
        e["action"] == "delete"
        and e["target"]["id"] == image_id
        and e["actor"] == moderator.user_id
        for e in audit
    )


def test_work_queued_when_its_creator_is_banned_never_becomes_public(
    mod_stack: StackState,
) -> None:
    creator = consented(mod_stack)
    moderator = sign_in(mod_stack, "moderators")
    ids = [
        creator.post("/generations", json={"prompt": f"a quiet harbour {n}", "steps": 1}).json()[
            "id"
        ]
        for n in range(3)
    ]
    banned = moderator.post(
        f"/moderation/users/{creator.user_id}/restriction", json={"action": "ban", "reason": "x"}
    )
    assert banned.status_code == 200

    def finished() -> list[dict] | None:
        states = [creator.get(f"/generations/{i}").json() for i in ids]
        return states if all(s["status"] in FINAL for s in states) else None

    states = wait_for(finished, timeout=120, what="the queued work to finish")
    public = anonymous(mod_stack)
    for state in states:
        assert state["status"] != "published", state
        assert public.get(f"/gallery/{state['id']}").status_code == 404
    caught = [s for s in states if s["status"] == "failed"]
    assert all(s["error"]["code"] == "account_restricted" for s in caught), caught
    moderator.post(
        f"/moderation/users/{creator.user_id}/restriction",
        json={"action": "restore", "reason": "appeal"},
    )
    for generation_id in ids:  # a restore does not publish what the restriction caught
        assert creator.get(f"/generations/{generation_id}").json()["status"] != "published"
        assert public.get(f"/gallery/{generation_id}").status_code == 404


def test_a_ban_withholds_every_published_image_and_lifting_it_brings_them_back(
    mod_stack: StackState,
) -> None:
    creator = consented(mod_stack)
    image_id = published_image(creator)
    moderator = sign_in(mod_stack, "moderators")
    public = anonymous(mod_stack)
    served = public.get(f"/gallery/{image_id}").json()["image_url"]
    assert requests.get(served, timeout=10).status_code == 200

    def restrict(action: str) -> None:
        answer = moderator.post(
            f"/moderation/users/{creator.user_id}/restriction",
            json={"action": action, "reason": "lifecycle test"},
        )
        assert answer.status_code == 200, answer.text

    restrict("ban")
    assert public.get(f"/gallery/{image_id}").status_code == 404
    assert public.get(f"/gallery/{image_id}/download", allow_redirects=False).status_code == 404
    assert public.get(f"/users/{creator.user_id}/gallery").json()["items"] == []
    assert image_id not in [i["id"] for i in public.get("/gallery?limit=100").json()["items"]]
    assert requests.get(served, timeout=10).status_code == 404  # the served copy is gone too
    restrict("restore")
    assert public.get(f"/gallery/{image_id}").status_code == 200
    assert [i["id"] for i in public.get(f"/users/{creator.user_id}/gallery").json()["items"]] == [
        image_id
    ]
    restrict("suspend")  # a suspension stops new work only
    assert public.get(f"/gallery/{image_id}").status_code == 200


def test_an_image_taken_into_review_is_not_served_and_approval_starts_a_fresh_count(
    mod_stack: StackState,
) -> None:
    creator = consented(mod_stack)
    image_id = published_image(creator)
    public = anonymous(mod_stack)
    served = public.get(f"/gallery/{image_id}").json()
    assert requests.get(served["image_url"], timeout=10).status_code == 200
    for _ in range(2):
        consented(mod_stack).post(f"/gallery/{image_id}/reports", json={"reason": "violent"})
    assert creator.get(f"/generations/{image_id}").json()["status"] == "in_review"
    for url in (served["image_url"], served["thumbnail_url"]):
        assert requests.get(url, timeout=10).status_code == 404  # out of view is out of view
    moderator = sign_in(mod_stack, "moderators")
    approved = moderator.post(
        f"/moderation/images/{image_id}/decision", json={"action": "approve", "reason": "fine"}
    )
    assert approved.json()["status"] == "published"
    assert requests.get(served["image_url"], timeout=10).status_code == 200
    # One new report after the approval does not send it straight back (threshold 2).
    consented(mod_stack).post(f"/gallery/{image_id}/reports", json={"reason": "violent"})
    assert public.get(f"/gallery/{image_id}").status_code == 200


def test_reporting_needs_consent_to_the_current_terms(mod_stack: StackState) -> None:
    image_id = published_image(consented(mod_stack))
    refused = sign_in(mod_stack).post(f"/gallery/{image_id}/reports", json={"reason": "other"})
    assert refused.status_code == 403 and refused.json()["code"] == "consent_required"


def test_a_revoked_review_link_is_gone_and_the_audit_says_who_opened_each_link(
    mod_stack: StackState,
) -> None:
    _, image_id = reported_into_review(mod_stack)
    minter, opener = sign_in(mod_stack, "moderators"), sign_in(mod_stack, "moderators")
    minted = minter.post(f"/moderation/images/{image_id}/review-link").json()
    token = minted["url"].rsplit("/review/", 1)[1]
    assert anonymous(mod_stack).get(f"/review/{token}").status_code == 200
    assert opener.get(f"/review/{token}").status_code == 200  # signed in: named in the log
    views = [
        e
        for e in minter.get("/moderation/audit?limit=100").json()["items"]
        if e["action"] == "view" and e["details"].get("link_id") == minted["link_id"]
    ]
    assert sorted(e["actor"] for e in views) == sorted([f"link:{minter.user_id}", opener.user_id])
    assert all(len(e["details"]["address_hash"]) == 64 for e in views)  # a keyed hash only
    revoked = opener.delete(
        f"/moderation/images/{image_id}/review-link", json={"reason": "the link leaked"}
    )
    assert revoked.status_code == 204
    gone = anonymous(mod_stack).get(f"/review/{token}")
    assert gone.status_code == 410 and gone.json()["code"] == "link_expired"
    assert gone.json()["details"] == {"revoked": True}
    fresh = minter.post(f"/moderation/images/{image_id}/review-link").json()["url"]
    assert anonymous(mod_stack).get(f"/review/{fresh.rsplit('/review/', 1)[1]}").status_code == 200
    audit = minter.get("/moderation/audit?limit=100").json()["items"]
    assert any(
        e["action"] == "revoke_review_links"
        and e["actor"] == opener.user_id
        and e["reason"] == "the link leaked"
        for e in audit
    )


def test_a_review_link_lasts_hours_not_a_day(mod_stack: StackState) -> None:
    _, image_id = reported_into_review(mod_stack)
    minted = sign_in(mod_stack, "moderators").post(f"/moderation/images/{image_id}/review-link")
    expires = datetime.fromisoformat(minted.json()["expires_at"].replace("Z", "+00:00"))
    hours = (expires - datetime.now(UTC)).total_seconds() / 3600
    assert 3.9 < hours <= 4.0


def test_a_banned_moderator_cannot_moderate_nor_lift_their_own_ban(mod_stack: StackState) -> None:
    moderator, admin = consented(mod_stack, "moderators"), sign_in(mod_stack, "admins")
    user = consented(mod_stack)
    banned = admin.post(
        f"/moderation/users/{moderator.user_id}/restriction",
        json={"action": "ban", "reason": "abused the queue"},
    )
    assert banned.status_code == 200 and banned.json()["status"] == "banned"
    for answer in (
        moderator.get("/moderation/queue"),
        moderator.get("/moderation/audit"),
        moderator.post(
            f"/moderation/users/{moderator.user_id}/restriction",
            json={"action": "restore", "reason": "I disagree"},
        ),
        moderator.post(
            f"/moderation/users/{user.user_id}/restriction", json={"action": "ban", "reason": "x"}
        ),
    ):
        assert answer.status_code == 403 and answer.json()["code"] == "account_restricted"
    assert moderator.get("/me").json()["status"] == "banned"
    assert user.get("/me").json()["status"] == "active"
    # Their delete of another's image is no removal any more: not theirs, so not found.
    image_id = published_image(user)
    assert moderator.delete(f"/gallery/{image_id}").status_code == 404
    assert anonymous(mod_stack).get(f"/gallery/{image_id}").status_code == 200
