"""Scan and gallery through the local stack: publish, browse, download, delete."""

from __future__ import annotations

import io

import pytest
import requests
from PIL import Image

from local.config import StackState
from tests.support.aws import client, name
from tests.support.client import anonymous, consented, publish_one

pytestmark = pytest.mark.integration


def test_a_benign_prompt_is_published_everywhere(stack: StackState) -> None:
    alice = consented(stack)
    made = publish_one(alice, "a lighthouse on a cliff")
    public = anonymous(stack)
    detail = public.get(f"/gallery/{made['id']}")
    assert detail.status_code == 200
    body = detail.json()
    assert body["prompt"] == "a lighthouse on a cliff"
    assert body["creator"] == alice.user_id
    assert (body["width"], body["height"]) == (512, 512)
    assert body["model"]["name"]
    feed_ids = [i["id"] for i in public.get("/gallery?limit=100").json()["items"]]
    assert made["id"] in feed_ids
    mine = public.get(f"/users/{alice.user_id}/gallery").json()["items"]
    assert [i["id"] for i in mine] == [made["id"]]
    thumb = requests.get(body["thumbnail_url"], timeout=10)
    assert thumb.status_code == 200
    assert Image.open(io.BytesIO(thumb.content)).format == "WEBP"
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 256
    owner_view = alice.get(f"/generations/{made['id']}").json()
    assert owner_view["image"]["id"] == made["id"]


def test_download_is_an_attachment_marked_as_ai_generated(stack: StackState) -> None:
    alice = consented(stack)
    made = publish_one(alice)
    answer = anonymous(stack).get(f"/gallery/{made['id']}/download", allow_redirects=False)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert "response-content-disposition=attachment" in location
    assert "X-Amz-Expires=" in location
    file = requests.get(location, timeout=10)
    assert file.status_code == 200
    assert file.headers["Content-Disposition"].startswith("attachment;")
    assert ".png" in file.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(file.content))
    assert image.size == (512, 512)
    assert b"trainedAlgorithmicMedia" in file.content
    assert b"objektify:model" not in file.content  # the original's own chunk is not served
    original_bucket = name(stack, "originals")
    # The private original is not what was served.
    original = client(stack, "s3").get_object(
        Bucket=original_bucket, Key=f"outputs/{made['id']}.png"
    )
    assert original["Body"].read() != file.content


def test_the_feed_is_newest_first_and_paged(stack: StackState) -> None:
    alice = consented(stack)
    first, second = publish_one(alice), publish_one(alice)
    public = anonymous(stack)
    page = public.get("/gallery?limit=1").json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    seen: list[str] = [page["items"][0]["id"]]
    cursor = page["next_cursor"]
    while cursor and len(seen) < 200:
        page = public.get(f"/gallery?limit=7&cursor={cursor}").json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)), "an image appeared twice across pages"
    assert seen.index(second["id"]) < seen.index(first["id"])


def test_a_tampered_cursor_is_refused(stack: StackState) -> None:
    alice = consented(stack)
    publish_one(alice)
    publish_one(alice)
    cursor = anonymous(stack).get("/gallery?limit=1").json()["next_cursor"]
    tampered = ("B" if cursor[5] != "B" else "C").join([cursor[:5], cursor[6:]])
    answer = anonymous(stack).get(f"/gallery?cursor={tampered}")
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_cursor"


def test_public_reads_carry_validators(stack: StackState) -> None:
    alice = consented(stack)
    made = publish_one(alice)
    first = anonymous(stack).get(f"/gallery/{made['id']}")
    assert "public" in first.headers["Cache-Control"]
    again = anonymous(stack).get(
        f"/gallery/{made['id']}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


def test_deleting_removes_the_image_from_every_read_path_at_once(stack: StackState) -> None:
    alice, bob = consented(stack), consented(stack)
    made = publish_one(alice)
    assert bob.delete(f"/gallery/{made['id']}").status_code == 404
    assert anonymous(stack).delete(f"/gallery/{made['id']}").status_code == 401
    assert alice.delete(f"/gallery/{made['id']}").status_code == 204
    public = anonymous(stack)
    assert public.get(f"/gallery/{made['id']}").status_code == 404
    assert public.get(f"/gallery/{made['id']}/download", allow_redirects=False).status_code == 404
    assert made["id"] not in [i["id"] for i in public.get("/gallery?limit=100").json()["items"]]
    assert public.get(f"/users/{alice.user_id}/gallery").json()["items"] == []
    assert alice.get(f"/generations/{made['id']}").json()["status"] == "removed"
    keys = (
        client(stack, "s3")
        .list_objects_v2(Bucket=name(stack, "public"), Prefix=f"images/{made['id']}/")
        .get("KeyCount")
    )
    assert keys == 0


def test_unknown_or_malformed_images_are_404(stack: StackState) -> None:
    public = anonymous(stack)
    for image_id in ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "..%2F..%2Fetc", "x#y"):
        assert public.get(f"/gallery/{image_id}").status_code == 404
    assert public.get("/users/nobody-at-all/gallery").json() == {"items": [], "next_cursor": None}
