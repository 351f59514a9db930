"""Due process through the local stack: every restricting decision comes with a statement of
reasons the user reads, the user appeals it once, and a person who did not make the decision
upholds or reverses it; a reversal undoes exactly what the decision did."""

from __future__ import annotations

from typing import Any

import pytest

from local.config import StackState
from tests.integration.test_moderation import consented, published_image
from tests.support.client import Api, anonymous

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
    assert (
        bob.post(
            f"/me/decisions/{statement['id']}/appeal", json={"explanation": "Satire."}
        ).status_code
        == 201
    )
    upheld = second.post(
        f"/moderation/appeals/{statement['id']}/decision",
        json={"action": "uphold", "reason": "The symbols are hateful, satire or not."},
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

    assert (
        carol.post(
            f"/me/decisions/{suspended['id']}/appeal", json={"explanation": "Not spam."}
        ).status_code
        == 201
    )
    assert (
        second.post(
            f"/moderation/appeals/{suspended['id']}/decision",
            json={"action": "reverse", "reason": "The prompts were a poem."},
        ).status_code
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
    assert (
        erin.post(
            f"/me/decisions/{second_removal['id']}/appeal", json={"explanation": "A sunset."}
        ).status_code
        == 201
    )
    assert (
        second.post(
            f"/moderation/appeals/{second_removal['id']}/decision",
            json={"action": "reverse", "reason": "A sunset indeed."},
        ).status_code
        == 200
    )
    assert erin.get("/me").json()["status"] == "active"
    assert erin.get(f"/generations/{images[1]}").json()["status"] == "published"
    assert erin.get(f"/generations/{images[0]}").json()["status"] == "removed"


def automated_facts(statement: dict[str, Any]) -> bool:
    return "strike" in statement["facts"] and statement["end_date"] is not None
