"""Creator pages with a name: `PATCH /me` with `display_name`, shown across the gallery."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from local.config import StackState
from tests.support.client import Api, anonymous, consented, publish_one, sign_in
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


def unique(prefix: str) -> str:
    """A name no other test of the shared stack holds (3-30 characters)."""
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def rename(api: Api, name: Any) -> requests.Response:
    return api.request("PATCH", "/me", json={"display_name": name})


def test_a_name_is_set_and_shown_on_me_and_across_the_gallery(stack: StackState) -> None:
    alice = consented(stack)
    made = publish_one(alice, "a lighthouse at dusk")
    public = anonymous(stack)
    assert "creator_name" not in public.get(f"/gallery/{made['id']}").json()
    assert "display_name" not in alice.get("/me").json()

    name = unique("Alice Lumen")
    answer = rename(alice, f"  {name}  ")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["display_name"] == name  # trimmed
    assert body["user_id"] == alice.user_id and body["consent"]["required"] is False
    assert alice.get("/me").json()["display_name"] == name

    detail = public.get(f"/gallery/{made['id']}").json()
    assert (detail["creator"], detail["creator_name"]) == (alice.user_id, name)
    page = public.get(f"/users/{alice.user_id}/gallery").json()["items"]
    assert [(i["id"], i["creator_name"]) for i in page] == [(made["id"], name)]
    feed = public.get("/gallery?limit=100").json()["items"]
    assert [i["creator_name"] for i in feed if i["id"] == made["id"]] == [name]

    # An image published after the name carries it from the start.
    later = publish_one(alice, "a harbour at dawn")
    page = public.get(f"/users/{alice.user_id}/gallery").json()["items"]
    assert {i["id"]: i.get("creator_name") for i in page} == {made["id"]: name, later["id"]: name}
    assert "@" not in json.dumps(page)  # still no e-mail anywhere


def test_clearing_the_name_shows_the_id_again_and_frees_it(stack: StackState) -> None:
    bob, carol = consented(stack), consented(stack)
    made = publish_one(bob, "a paper boat")
    name = unique("Bob Paper")
    assert rename(bob, name).status_code == 200
    cleared = rename(bob, None)
    assert cleared.status_code == 200, cleared.text
    assert "display_name" not in cleared.json()
    assert "display_name" not in bob.get("/me").json()
    detail = anonymous(stack).get(f"/gallery/{made['id']}").json()
    assert "creator_name" not in detail and detail["creator"] == bob.user_id
    page = anonymous(stack).get(f"/users/{bob.user_id}/gallery").json()["items"]
    assert "creator_name" not in page[0]
    assert rename(carol, name).status_code == 200  # free for others now


def test_a_held_name_is_refused_in_any_case_accent_or_lookalike(stack: StackState) -> None:
    dana, erin = consented(stack), consented(stack)
    tag = uuid.uuid4().hex[:6]
    held = f"Dana Ana {tag}"
    assert rename(dana, held).status_code == 200
    for variant in (
        held,
        held.upper(),
        f"dana ána {tag}",  # an accent
        f"D\u0430na Ana {tag}",  # a Cyrillic a
        f"DanaAna{tag}",  # spaces do not tell names apart
    ):
        answer = rename(erin, variant)
        assert answer.status_code == 409, (variant, answer.text)
        assert answer.json()["code"] == "name_taken"
        assert set(answer.json()) == {"code", "message", "details"}
    assert "display_name" not in erin.get("/me").json()
    # The holder may change the case of their own name.
    again = rename(dana, held.lower())
    assert again.status_code == 200 and again.json()["display_name"] == held.lower()


def test_of_users_racing_for_one_name_exactly_one_gets_it(stack: StackState) -> None:
    racers = [consented(stack) for _ in range(6)]
    tag = uuid.uuid4().hex[:6]
    # The same name as each racer might write it: one claim key for all of them.
    spellings = [f"Race {tag}", f"RACE {tag}", f"race {tag}", f"R\u0430ce {tag}"]
    with ThreadPoolExecutor(len(racers)) as pool:
        answers = list(
            pool.map(lambda n: rename(racers[n], spellings[n % len(spellings)]), range(6))
        )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409, 409, 409, 409, 409], [a.text for a in answers]
    holders = [api for api in racers if "display_name" in api.get("/me").json()]
    assert len(holders) == 1


def test_renaming_releases_the_old_name(stack: StackState) -> None:
    fay, gus = consented(stack), consented(stack)
    first, second = unique("Fay First"), unique("Fay Second")
    assert rename(fay, first).status_code == 200
    assert rename(fay, second).status_code == 200
    assert rename(gus, second).status_code == 409
    assert rename(gus, first).status_code == 200


@pytest.mark.parametrize(
    ("name", "field_says"),
    [
        ("ab", "3 to 30"),
        ("  ab  ", "3 to 30"),
        ("x" * 31, "3 to 30"),
        ("___", "letters or digits"),
        ("Eve\u202eevil", "invisible"),
    ],
)
def test_a_name_of_the_wrong_shape_is_400_with_field_details(
    stack: StackState, name: str, field_says: str
) -> None:
    answer = rename(consented(stack), name)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["code"] == "invalid_request"
    assert field_says in body["details"]["display_name"]


def test_a_name_the_prompt_screen_refuses_is_400(stack: StackState) -> None:
    hank = consented(stack)
    answer = rename(hank, "Porn King")
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["code"] == "invalid_request"
    assert body["details"]["category"] == "sexual"
    assert "content policy" in body["details"]["display_name"]
    assert "display_name" not in hank.get("/me").json()


def test_other_fields_and_missing_ones_are_refused(stack: StackState) -> None:
    ivy = consented(stack)
    answer = ivy.request(
        "PATCH", "/me", json={"display_name": unique("Ivy"), "status": "active", "strikes": 0}
    )
    assert answer.status_code == 400
    assert answer.json()["details"] == {"status": "unknown field", "strikes": "unknown field"}
    assert ivy.request("PATCH", "/me", json={}).status_code == 400
    assert "display_name" not in ivy.get("/me").json()


def test_signed_out_and_unconsented_callers_cannot_name_themselves(stack: StackState) -> None:
    assert rename(anonymous(stack), unique("Nobody")).status_code == 401
    unconsented = rename(sign_in(stack), unique("Newcomer"))
    assert unconsented.status_code == 403
    assert unconsented.json()["code"] == "consent_required"


def test_the_export_holds_the_name_and_erasure_removes_it_and_frees_it(
    stack: StackState,
) -> None:
    jo, kim = consented(stack), consented(stack)
    made = publish_one(jo, "a quiet meadow")
    name = unique("Jo Meadow")
    assert rename(jo, name).status_code == 200

    started = jo.post("/me/export").json()["export_id"]
    ready = wait_for(
        lambda: (b := jo.get(f"/me/export/{started}").json())["status"] == "ready" and b,
        timeout=60,
        what="the export",
    )
    archive = zipfile.ZipFile(io.BytesIO(requests.get(ready["url"], timeout=10).content))
    assert json.loads(archive.read("profile.json"))["display_name"] == name

    assert jo.delete("/me").status_code == 202
    public = anonymous(stack)
    assert public.get(f"/gallery/{made['id']}").status_code == 404
    assert name not in json.dumps(public.get("/gallery?limit=100").json())
    # The name is released by the erasure's queued part: then another user may take it.
    wait_for(
        lambda: rename(kim, name).status_code == 200,
        timeout=60,
        what="the erased user's name to be free",
    )
    assert kim.get("/me").json()["display_name"] == name
