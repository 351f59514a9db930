"""Due process through the local stack: every restricting decision comes with a statement of
reasons the user reads, the user appeals it once, and a person who did not make the decision
upholds or reverses it; a reversal undoes exactly what the decision did."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from local.config import StackState
from tests.integration.test_moderation import consented, published_image
from tests.support.client import Api, anonymous
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


def statements_of(api: Api) -> list[dict[str, Any]]:
    answer = api.get("/me/decisions?limit=100")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def statement_about(api: Api, **match: Any) -> dict[str, Any]:
    found = [s for s in statements_of(api) if all(s[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, statements_of(api))
    return found[0]


def remove(moderator: Api, image_id: str, category: str = "violent") -> None:
    answer = moderator.post(
        f"/moderation/images/{image_id}/decision",
        json={"action": "remove", "reason": "Graphic violence.", "category": category},
    )
    assert answer.status_code == 200, answer.text


def restrict(moderator: Api, user: Api, action: str, **extra: Any) -> None:
    answer = moderator.post(
        f"/moderation/users/{user.user_id}/restriction",
        json={"action": action, "reason": "Spam in prompts.", **extra},
    )
    assert answer.status_code == 200, answer.text


def appeal(user: Api, decision_id: str, explanation: str) -> requests.Response:
    return user.post(f"/me/decisions/{decision_id}/appeal", json={"explanation": explanation})


def decide_appeal(moderator: Api, decision_id: str, action: str, reason: str) -> requests.Response:
    return moderator.post(
        f"/moderation/appeals/{decision_id}/decision", json={"action": action, "reason": reason}
    )


def test_a_removal_is_explained_appealed_once_and_reversed_by_another_moderator(
    mod_stack: StackState,
) -> None:
    alice, first, second = (
        consented(mod_stack),
        consented(mod_stack, "moderators"),
        consented(mod_stack, "moderators"),
    )
    image_id = published_image(alice)
    remove(first, image_id)

    statement = statement_about(alice, image_id=image_id)
    assert statement["decision"] == "content_removed"
    assert statement["ground"] == "terms" and "Terms of Service" in statement["ground_reference"]
    assert statement["category"] == "violent"
    assert statement["explanation"] == "Graphic violence."
    assert statement["automated_detection"] is False and statement["automated_decision"] is False
    assert statement["source"] == "own_initiative"
    assert statement["appeal"] is None and statement["how_to_appeal"]
    assert "decided_by" not in statement  # who moderated is not the user's to see

    path = f"/me/decisions/{statement['id']}/appeal"
    assert consented(mod_stack).post(path, json={"explanation": "mine"}).status_code == 404
    filed = alice.post(path, json={"explanation": "It is a painting of a storm."})
    assert filed.status_code == 201, filed.text
    assert filed.json() == {"id": statement["id"], "status": "open"}
    again = alice.post(path, json={"explanation": "Please."})
    assert again.status_code == 409 and again.json()["code"] == "already_appealed"

    listed = [a for a in first.get("/moderation/appeals?limit=100").json()["items"]]
    mine = next(a for a in listed if a["id"] == statement["id"])
    assert mine["explanation"] == "It is a painting of a storm."
    assert mine["decision"]["decision"] == "content_removed" and mine["image_url"]

    decide = f"/moderation/appeals/{statement['id']}/decision"
    own = first.post(decide, json={"action": "reverse", "reason": "I was wrong."})
    assert own.status_code == 403 and own.json()["code"] == "conflict_of_interest"
    reversed_ = second.post(decide, json={"action": "reverse", "reason": "A storm, not gore."})
    assert reversed_.status_code == 200, reversed_.text
    assert reversed_.json()["outcome"] == "reversed"
    late = second.post(decide, json={"action": "uphold", "reason": "Second thoughts."})
    assert late.status_code == 409

    assert anonymous(mod_stack).get(f"/gallery/{image_id}").status_code == 200
    assert alice.get(f"/generations/{image_id}").json()["status"] == "published"
    outcome = statement_about(alice, decision="decision_reversed")
    assert (
        outcome["refers_to"] == statement["id"] and outcome["explanation"] == "A storm, not gore."
    )
    assert outcome["appeal"] is None and outcome["how_to_appeal"] is None
    appealed = statement_about(alice, id=statement["id"])
    assert appealed["appeal"]["status"] == "decided" and appealed["appeal"]["outcome"] == "reversed"
    assert all(a["id"] != statement["id"] for a in first.get("/moderation/appeals").json()["items"])
    audit = first.get("/moderation/audit?limit=100").json()["items"]
    done = {(e["action"], e["target"]["id"]) for e in audit}
    assert {("appeal", statement["id"]), ("appeal_reversed", statement["id"])} <= done
    assert ("reverse", image_id) in done


def test_an_upheld_appeal_keeps_the_image_down_and_says_so(mod_stack: StackState) -> None:
    bob, first, second = (
        consented(mod_stack),
        consented(mod_stack, "moderators"),
        consented(mod_stack, "moderators"),
    )
    image_id = published_image(bob)
    remove(first, image_id, category="hateful")
    statement = statement_about(bob, image_id=image_id)
    assert appeal(bob, statement["id"], "Satire.").status_code == 201
    upheld = decide_appeal(
        second, statement["id"], "uphold", "The symbols are hateful, satire or not."
    )
    assert upheld.status_code == 200 and upheld.json()["outcome"] == "upheld"
    assert anonymous(mod_stack).get(f"/gallery/{image_id}").status_code == 404
    assert statement_about(bob, decision="decision_upheld")["refers_to"] == statement["id"]


def test_suspensions_and_bans_are_explained_and_a_reversal_restores_the_account(
    mod_stack: StackState,
) -> None:
    carol, dave = consented(mod_stack), consented(mod_stack)
    first, second = consented(mod_stack, "moderators"), consented(mod_stack, "moderators")
    restrict(first, carol, "suspend", until="2099-01-01T00:00:00Z")
    restrict(first, dave, "ban")

    suspended = statement_about(carol, decision="account_suspended")  # readable while suspended
    assert suspended["end_date"].startswith("2099-01-01")
    assert suspended["explanation"] == "Spam in prompts." and suspended["image_id"] is None
    terminated = statement_about(dave, decision="account_terminated")
    assert terminated["end_date"] is None

    assert appeal(carol, suspended["id"], "Not spam.").status_code == 201
    assert (
        decide_appeal(second, suspended["id"], "reverse", "The prompts were a poem.").status_code
        == 200
    )
    assert carol.get("/me").json()["status"] == "active"
    assert statement_about(carol, decision="decision_reversed")["refers_to"] == suspended["id"]


def test_reversing_the_strike_that_suspended_an_account_lifts_the_suspension(
    mod_stack: StackState,
) -> None:
    erin = consented(mod_stack)
    first, second = consented(mod_stack, "moderators"), consented(mod_stack, "moderators")
    images = [published_image(erin), published_image(erin)]
    for image_id in images:
        remove(first, image_id)
    assert erin.get("/me").json()["status"] == "suspended"  # two strikes
    automatic = statement_about(erin, decision="account_suspended")
    assert automatic["automated_decision"] is True and automated_facts(automatic)

    second_removal = statement_about(erin, image_id=images[1])
    assert appeal(erin, second_removal["id"], "A sunset.").status_code == 201
    assert (
        decide_appeal(second, second_removal["id"], "reverse", "A sunset indeed.").status_code
        == 200
    )
    assert erin.get("/me").json()["status"] == "active"
    assert erin.get(f"/generations/{images[1]}").json()["status"] == "published"
    assert erin.get(f"/generations/{images[0]}").json()["status"] == "removed"


def automated_facts(statement: dict[str, Any]) -> bool:
    return "strike" in statement["facts"] and statement["end_date"] is not None


def notice(image_id: str, category: str = "copyright", **changes: Any) -> dict[str, Any]:
    return {
        "image_id": image_id,
        "category": category,
        "explanation": "This is my photograph, copied without permission.",
        "notifier": {"name": "Rita Holder", "email": "rita@example.org"},
        "good_faith": True,
        **changes,
    }


def queue_item(moderator: Api, image_id: str) -> dict[str, Any] | None:
    items = moderator.get("/moderation/queue?limit=100").json()["items"]
    found = [i for i in items if i["image_id"] == image_id]
    assert len(found) <= 1, "one queue item per image"
    return found[0] if found else None


def test_a_notice_from_anyone_reaches_a_moderator_and_its_status_url_shows_the_outcome(
    mod_stack: StackState,
) -> None:
    alice, moderator = consented(mod_stack), consented(mod_stack, "moderators")
    image_id = published_image(alice)
    public = anonymous(mod_stack)
    filed = public.post("/notices", json=notice(image_id))
    assert filed.status_code == 201, filed.text
    status_url = filed.json()["status_url"]
    assert filed.json()["status"] == "received"
    assert public.get(f"/gallery/{image_id}").status_code == 200  # a notice alone hides nothing
    second = public.post("/notices", json=notice(image_id, "privacy", explanation="That is me."))
    assert second.status_code == 201

    item = queue_item(moderator, image_id)
    assert item is not None
    assert [n["category"] for n in item["notices"]] == ["copyright", "privacy"]
    assert "rita@example.org" not in str(item)  # moderators decide on the content
    follow = requests_get(status_url)
    assert follow.status_code == 200 and follow.json()["status"] == "received"
    tampered = status_url[:-3] + ("AAA" if not status_url.endswith("AAA") else "BBB")
    assert requests_get(tampered).status_code == 403

    remove(moderator, image_id, category="copyright")
    decided = requests_get(status_url).json()
    assert decided["status"] == "decided" and decided["decision"]["outcome"] == "removed"
    assert decided["decision"]["statement"]["ground"] == "illegal"
    assert "copyright" in decided["decision"]["statement"]["ground_reference"]
    assert queue_item(moderator, image_id) is None
    statement = statement_about(alice, image_id=image_id)
    assert statement["source"] == "notice" and "notice" in statement["facts"]


def test_a_single_report_reaches_the_queue_at_once_and_the_image_stays_up(
    mod_stack: StackState,
) -> None:
    bob, moderator = consented(mod_stack), consented(mod_stack, "moderators")
    image_id = published_image(bob)
    reported = consented(mod_stack).post(
        f"/gallery/{image_id}/reports", json={"reason": "copyright", "note": "my photo"}
    )
    assert reported.status_code == 202
    item = queue_item(moderator, image_id)
    assert item is not None and item["reports"] == {"count": 1, "reasons": ["copyright"]}
    assert anonymous(mod_stack).get(f"/gallery/{image_id}").status_code == 200
    refused = bob.delete(f"/gallery/{image_id}")  # a decision is pending: no dodging it
    assert refused.status_code == 409 and refused.json()["code"] == "under_review"

    kept = moderator.post(
        f"/moderation/images/{image_id}/decision",
        json={"action": "approve", "reason": "Bob's own photograph."},
    )
    assert kept.status_code == 200 and kept.json()["status"] == "published"
    assert queue_item(moderator, image_id) is None
    assert anonymous(mod_stack).get(f"/gallery/{image_id}").status_code == 200
    assert bob.delete(f"/gallery/{image_id}").status_code == 204


def test_notices_need_good_faith_and_a_public_image(mod_stack: StackState) -> None:
    public = anonymous(mod_stack)
    image_id = published_image(consented(mod_stack))
    no_faith = {k: v for k, v in notice(image_id).items() if k != "good_faith"}
    answer = public.post("/notices", json=no_faith)
    assert answer.status_code == 400 and "good_faith" in answer.json()["details"]
    unknown = public.post("/notices", json=notice("01ARZ3NDEKTSV4RRFFQ69G5FAV"))
    assert unknown.status_code == 404


def test_the_transparency_report_counts_the_decisions_made(mod_stack: StackState) -> None:
    today = datetime.now(UTC).date().isoformat()
    url = f"/transparency/report?from={today}&to={today}"
    public = anonymous(mod_stack)
    before = public.get(url).json()
    creator, other = consented(mod_stack), consented(mod_stack)
    first, second = consented(mod_stack, "moderators"), consented(mod_stack, "moderators")
    image_id = published_image(creator)
    assert public.post("/notices", json=notice(image_id)).status_code == 201
    remove(first, image_id, category="copyright")
    removal = statement_about(creator, image_id=image_id)
    assert appeal(creator, removal["id"], "Licensed.").status_code == 201
    assert (
        decide_appeal(second, removal["id"], "reverse", "The licence is in order.").status_code
        == 200
    )
    restrict(first, other, "suspend")
    after = public.get(url)
    assert after.status_code == 200 and "public" in after.headers["Cache-Control"]
    now = after.json()

    def grew(path: str) -> int:
        old, new = before, now
        for part in path.split("."):
            old, new = old.get(part, 0) if old else 0, new.get(part, 0) if new else 0
        return int(new or 0) - int(old or 0)

    assert grew("notices.by_category.copyright") == 1
    assert grew("decisions.total") == 2  # the removal and the suspension
    assert grew("decisions.by_ground.illegal") == 1 and grew("decisions.by_ground.terms") == 1
    assert grew("decisions.by_source.notice") == 1
    assert grew("accounts.suspended") == 1
    assert grew("appeals.received") == 1 and grew("appeals.reversed") == 1
    assert now["median_hours_notice_to_decision"] is not None
    bad = public.get("/transparency/report?from=2026-13-01")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_request"


def test_the_privacy_policy_is_served_and_a_revision_needs_no_fresh_consent(
    mod_stack: StackState,
) -> None:
    user, operator = consented(mod_stack), consented(mod_stack, "admins")
    first = anonymous(mod_stack).get("/privacy/current")
    assert first.status_code == 200
    policy = first.json()
    assert "Privacy Policy" in policy["text"] and "erase" in policy["text"]
    assert user.post("/admin/privacy", json={"text": "Revised."}).status_code == 403
    revised = operator.post("/admin/privacy", json={"text": policy["text"] + "\nRevised."})
    assert revised.status_code == 201 and revised.json()["version"] == policy["version"] + 1

    def shows_revision() -> bool | None:
        now = anonymous(mod_stack).get("/privacy/current").json()
        return now["version"] == policy["version"] + 1 or None

    wait_for(shows_revision, timeout=30, what="the revision to be served")
    assert user.get("/me").json()["consent"]["required"] is False
    assert user.post("/generations", json={"prompt": "a lake", "steps": 1}).status_code == 202


def test_a_moderator_sees_any_image_in_any_state_and_the_view_is_audited(
    mod_stack: StackState,
) -> None:
    creator, moderator = consented(mod_stack), consented(mod_stack, "moderators")
    image_id = published_image(creator)
    remove(moderator, image_id)
    path = f"/moderation/images/{image_id}"
    assert moderator.get(path).status_code == 400  # no reason given
    assert creator.get(f"{path}?reason=curious").status_code == 403
    seen = moderator.get(f"{path}?reason=deciding an appeal")
    assert seen.status_code == 200, seen.text
    item = seen.json()
    assert item["status"] == "removed" and item["category"] == "violent"
    assert requests_get(item["image_url"]).content[:8] == b"\x89PNG\r\n\x1a\n"
    audit = moderator.get("/moderation/audit?limit=50").json()["items"]
    assert any(
        e["action"] == "view"
        and e["target"]["id"] == image_id
        and e["reason"] == "look-up: deciding an appeal"
        for e in audit
    )


def test_notices_are_rate_limited_per_network_address(mod_stack: StackState) -> None:
    """Runs last here: it uses up the window of the address every test here shares."""
    public = anonymous(mod_stack)
    image_id = published_image(consented(mod_stack))
    answers = [public.post("/notices", json=notice(image_id)) for _ in range(9)]
    codes = [a.status_code for a in answers]
    assert codes[-1] == 429 and set(codes) == {201, 429}, codes
    refused = answers[-1]
    assert refused.json()["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600


def requests_get(url: str) -> requests.Response:
    return requests.get(url, timeout=30)
