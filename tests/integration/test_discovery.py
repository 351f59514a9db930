"""Discovering images: likes, the `top` orders by period, and prompt search (issue 19)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
import requests

from local.config import StackState
from tests.support.aws import client, name
from tests.support.client import Api, anonymous, consented, publish_one, sign_in
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


def word() -> str:
    """A word no other test's prompt holds (letters only: the screen reads digits as letters)."""
    return "zq" + "".join("abcdefghjkmnprstuvwy"[int(c, 16)] for c in uuid.uuid4().hex[:8])


def every(api: Api, path: str) -> list[dict[str, Any]]:
    """All items of a paged list, following its cursors."""
    items: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(100):
        answer = api.get(path + cursor)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items += body["items"]
        if not body["next_cursor"]:
            return items
        cursor = f"&cursor={body['next_cursor']}"
    raise AssertionError("the list never ended")


def ids(items: list[dict[str, Any]], among: set[str]) -> list[str]:
    return [i["id"] for i in items if i["id"] in among]


def test_likes_are_idempotent_and_shown_on_entries_and_the_detail(stack: StackState) -> None:
    alice, bob = consented(stack), consented(stack)
    image = publish_one(alice, f"a quiet orchard {word()}")["id"]
    for _ in range(2):
        assert bob.put(f"/gallery/{image}/like").status_code == 204
    detail = bob.get(f"/gallery/{image}").json()
    assert (detail["likes"], detail["liked_by_me"]) == (1, True)
    assert alice.get(f"/gallery/{image}").json()["liked_by_me"] is False
    assert "liked_by_me" not in anonymous(stack).get(f"/gallery/{image}").json()
    feed = every(anonymous(stack), "/gallery?limit=100")
    assert [i["likes"] for i in feed if i["id"] == image] == [1]
    page = anonymous(stack).get(f"/users/{alice.user_id}/gallery").json()["items"]
    assert [i["likes"] for i in page if i["id"] == image] == [1]

    for _ in range(2):
        assert bob.delete(f"/gallery/{image}/like").status_code == 204
    detail = bob.get(f"/gallery/{image}").json()
    assert (detail["likes"], detail["liked_by_me"]) == (0, False)


def test_liking_needs_a_consented_account_and_a_public_image(stack: StackState) -> None:
    alice = consented(stack)
    image = publish_one(alice, f"a paper kite {word()}")["id"]
    assert anonymous(stack).put(f"/gallery/{image}/like").status_code == 401
    fresh = sign_in(stack)  # terms not accepted
    refused = fresh.put(f"/gallery/{image}/like")
    assert (refused.status_code, refused.json()["code"]) == (403, "consent_required")
    unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    assert alice.put(f"/gallery/{unknown}/like").status_code == 404
    assert alice.put("/gallery/not-an-id/like").status_code == 404
    assert alice.delete(f"/gallery/{image}").status_code == 204
    assert alice.put(f"/gallery/{image}/like").status_code == 404


def test_top_follows_likes_and_search_finds_every_word(stack: StackState) -> None:
    tag, other = word(), word()
    alice = consented(stack)
    fans = [consented(stack) for _ in range(2)]
    made = [
        publish_one(alice, f"Crimson fox {tag} in the snow"),
        publish_one(alice, f"a crimson owl {tag} {other}"),
        publish_one(alice, f"a blue fox {tag}"),
    ]
    first, second, third = (m["id"] for m in made)
    mine = {first, second, third}
    for fan in fans:
        assert fan.put(f"/gallery/{third}/like").status_code == 204
    assert fans[0].put(f"/gallery/{second}/like").status_code == 204
    public = anonymous(stack)

    def ranked(period: str) -> list[str] | None:
        order = ids(every(public, f"/gallery?sort=top&period={period}&limit=2"), mine)
        return order if order == [third, second, first] else None

    for period in ("day", "week", "all"):
        wait_for(partial(ranked, period), timeout=30, what=f"top {period} to follow likes")
    # And back when a like is taken back.
    for fan in fans:
        assert fan.delete(f"/gallery/{third}/like").status_code == 204
    wait_for(
        lambda: ids(every(public, "/gallery?sort=top&period=all"), mine)[0] == second,
        timeout=30,
        what="top to follow an unlike",
    )

    # Search: every word, after the screen's normalisation (case, accents, punctuation).
    found = every(public, f"/gallery?q=CRÍMSON,+{tag.upper()}!&limit=1")
    assert ids(found, mine) == [second, first]  # newest first
    assert ids(every(public, f"/gallery?q=fox+{tag}"), mine) == [third, first]
    assert ids(every(public, f"/gallery?q=the+owl+{other}"), mine) == [second]
    assert every(public, f"/gallery?q=crimson+{tag}+whale") == []


def test_a_removed_image_leaves_top_and_search_at_once(stack: StackState) -> None:
    tag = word()
    alice, fan = consented(stack), consented(stack)
    image = publish_one(alice, f"a lantern {tag}")["id"]
    assert fan.put(f"/gallery/{image}/like").status_code == 204
    public = anonymous(stack)
    assert ids(every(public, f"/gallery?q={tag}"), {image}) == [image]
    wait_for(
        lambda: ids(every(public, "/gallery?sort=top&period=day"), {image}),
        timeout=30,
        what="the image in top",
    )
    assert alice.delete(f"/gallery/{image}").status_code == 204
    assert every(public, f"/gallery?q={tag}") == []
    for period in ("day", "week", "all"):
        assert ids(every(public, f"/gallery?sort=top&period={period}"), {image}) == []
    assert fan.delete(f"/gallery/{image}/like").status_code == 404


def _seed_old(stack: StackState, days: int, likes: int) -> str:
    """A published image's feed entry and rank items as publishing writes them, `days` old."""
    from chalicelib.adapters.ids import new_id

    image = new_id()
    at = datetime.now(UTC) - timedelta(days=days)
    sk = f"{at.isoformat(timespec='milliseconds').replace('+00:00', 'Z')}#{image}"
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    digest = __import__("hashlib").sha256(image.encode()).digest()
    shard = int.from_bytes(digest[:4], "big") % 4
    year, week, _ = at.isocalendar()
    table = name(stack, "gallery")
    dynamodb = client(stack, "dynamodb")
    entry = {
        "image_id": {"S": image},
        "creator_id": {"S": "seeded-creator"},
        "prompt": {"S": "an old image"},
        "width": {"N": "512"},
        "height": {"N": "512"},
        "created_at": {"S": stamp},
        "published_at": {"S": stamp},
        "likes": {"N": str(likes)},
    }
    dynamodb.put_item(
        TableName=table, Item={"pk": {"S": f"feed#{shard}"}, "sk": {"S": sk}, **entry}
    )
    for pk in (
        f"top#all#{shard}",
        f"top#week#{year}-W{week:02d}#{shard}",
        f"top#day#{at.date()}#{shard}",
    ):
        dynamodb.put_item(
            TableName=table,
            Item={"pk": {"S": pk}, "sk": {"S": sk}, "rank_likes": {"N": str(likes)}},
        )
    return image


def test_top_keeps_to_its_period(stack: StackState) -> None:
    three_days, ten_days = _seed_old(stack, 3, 10**6), _seed_old(stack, 10, 10**6 + 1)
    seeded = {three_days, ten_days}
    public = anonymous(stack)
    assert ids(every(public, "/gallery?sort=top&period=all&limit=5"), seeded) == [
        ten_days,
        three_days,
    ]
    assert ids(every(public, "/gallery?sort=top&period=week"), seeded) == [three_days]
    assert ids(every(public, "/gallery?sort=top&period=day"), seeded) == []


@pytest.mark.parametrize(
    "query",
    [
        "sort=old",
        "sort=top&period=month",
        "period=day",
        "sort=top&q=fox",
        "q=",
        "q=the+of+and",
        "q=" + "a" * 101,
        "q=one+two+three+four+five+six",
        "q=fox&cursor=not-a-cursor",
        "sort=top&cursor=AAAA",
    ],
)
def test_bad_orders_and_searches_are_400(stack: StackState, query: str) -> None:
    answer = anonymous(stack).get(f"/gallery?{query}")
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] in ("invalid_request", "invalid_cursor")


def test_a_cursor_of_one_order_is_refused_by_another(stack: StackState) -> None:
    alice = consented(stack)
    tag = word()
    for n in range(2):
        publish_one(alice, f"a pebble {n} {tag}")
    page = anonymous(stack).get(f"/gallery?q={tag}&limit=1").json()
    assert page["next_cursor"]
    wrong = anonymous(stack).get(f"/gallery?sort=top&period=all&cursor={page['next_cursor']}")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_cursor")


def test_likes_are_exported_and_taken_back_by_erasure(stack: StackState) -> None:
    alice, fan = consented(stack), consented(stack)
    image = publish_one(alice, f"a copper bell {word()}")["id"]
    assert fan.put(f"/gallery/{image}/like").status_code == 204
    started = fan.post("/me/export").json()["export_id"]
    ready = wait_for(
        lambda: (b := fan.get(f"/me/export/{started}").json())["status"] == "ready" and b,
        timeout=60,
        what="the export",
    )
    archive = zipfile.ZipFile(io.BytesIO(requests.get(ready["url"], timeout=30).content))
    assert [like["image_id"] for like in json.loads(archive.read("likes.json"))] == [image]

    assert fan.delete("/me").status_code == 202
    public = anonymous(stack)
    wait_for(
        lambda: public.get(f"/gallery/{image}").json()["likes"] == 0,
        timeout=60,
        what="the erased user's like to be taken back",
    )
    feed = every(public, "/gallery?sort=top&period=all&limit=100")
    assert [i["likes"] for i in feed if i["id"] == image] == [0]
