"""Image-to-image over HTTP on the local stack: a ready upload with `init_image` and `strength`
becomes a published image that says it was made from an upload, and never shows the upload (its
page, its content credentials, the training dataset) but to moderators reviewing it (audited);
anyone else's, a pending or an unknown upload is 404."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import c2pa
import pytest
import requests
from PIL import Image

from local.config import StackState
from tests.integration.test_controls import published
from tests.integration.test_model_rollout import objektify
from tests.integration.test_upload_scan import settled, upload
from tests.integration.test_uploads import png
from tests.support.aws import client, name
from tests.support.client import Api, anonymous, consented, sign_in
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


def ready_upload(api: Api) -> str:
    upload_id = upload(api, png(), "image/png")
    assert settled(api, upload_id)["status"] == "ready"
    return upload_id


def ask(api: Api, **body: Any) -> requests.Response:
    return api.post(
        "/generations",
        json={"prompt": f"a painted harbour {uuid.uuid4().hex[:6]}", "steps": 2, **body},
    )


def test_a_ready_upload_becomes_a_published_image_made_from_an_upload(
    stack: StackState,
) -> None:
    alice = consented(stack)
    upload_id = ready_upload(alice)
    answer = ask(alice, init_image=upload_id, strength=0.5, width=256, height=320)
    assert answer.status_code == 202, answer.text
    made = answer.json()
    # Its owner sees what it was made from.
    assert made["init_image"] == upload_id and made["strength"] == 0.5
    done = published(alice, made["id"])
    assert (done["width"], done["height"]) == (256, 320)
    assert done["init_image"] == upload_id
    # A generation uses the upload: it no longer expires.
    record = client(stack, "dynamodb").get_item(
        TableName=name(stack, "uploads"), Key={"upload_id": {"S": upload_id}}
    )["Item"]
    assert record["used"] == {"BOOL": True} and "ttl" not in record

    public = anonymous(stack)
    page = public.get(f"/gallery/{made['id']}")
    assert page.status_code == 200
    assert page.json()["made_from"] == "upload" and page.json()["strength"] == 0.5
    assert upload_id not in page.text and "init_image" not in page.json()
    # The signed full-size file says so too, naming no upload.
    download = public.get(f"/gallery/{made['id']}/download", allow_redirects=False)
    full = requests.get(download.headers["Location"], timeout=60)
    with c2pa.Reader("image/png", io.BytesIO(full.content)) as reader:
        manifest = reader.get_active_manifest()
    image = next(a for a in manifest["assertions"] if a["label"] == "com.objektify.image")
    assert image["data"] == {"image_id": made["id"], "made_from": "upload"}
    # The upload itself is only its owner's.
    assert public.get(f"/uploads/{upload_id}").status_code in (401, 404)
    # Its image is in the galleries; the upload, in none of them.
    for listing in ("/gallery?limit=100", f"/users/{alice.user_id}/gallery?limit=100"):

        def listed(listing: str = listing) -> str | None:
            shown = public.get(listing)
            return shown.text if shown.status_code == 200 and made["id"] in shown.text else None

        assert upload_id not in wait_for(listed, timeout=60, what=f"the image in {listing}")

    # The training dataset's record says so and holds nothing of the upload.
    out = f"s3://{name(stack, 'exports')}/datasets/image-to-image"
    exported = objektify(stack, "dataset", "export", "--out", out)
    assert exported.returncode == 0, exported.stderr
    text = (
        client(stack, "s3")
        .get_object(Bucket=name(stack, "exports"), Key="datasets/image-to-image/manifest.jsonl")[
            "Body"
        ]
        .read()
        .decode()
    )
    records = {r["id"]: r for r in map(json.loads, text.splitlines())}
    assert records[made["id"]]["made_from"] == "upload"
    assert upload_id not in text
    listed = client(stack, "s3").list_objects_v2(
        Bucket=name(stack, "exports"), Prefix="datasets/image-to-image/"
    )
    assert not [o["Key"] for o in listed.get("Contents", []) if upload_id in o["Key"]]

    # Reported, it goes to review: the moderator sees the upload beside the output.
    assert consented(stack).post(
        f"/gallery/{made['id']}/reports", json={"reason": "other"}
    ).status_code in (201, 202)
    moderator = sign_in(stack, "moderators")

    def queued() -> dict[str, Any] | None:
        items = moderator.get("/moderation/queue?limit=100").json()["items"]
        return next((i for i in items if i["image_id"] == made["id"]), None)

    item = wait_for(queued, timeout=60, what="the image to reach the review queue")
    assert item["upload_url"] and item["review_url"] != item["upload_url"]
    shown = requests.get(item["upload_url"], timeout=60)
    assert shown.status_code == 200 and shown.content.startswith(b"\x89PNG")

    def audited() -> dict[str, Any] | None:
        entries = moderator.get("/moderation/audit?limit=100").json()["items"]
        return next((e for e in entries if e["target"]["id"] == upload_id), None)

    entry = wait_for(audited, timeout=30, what="the upload view's audit entry")
    assert entry["target"]["type"] == "upload"


def test_someone_elses_a_pending_or_an_unknown_upload_is_404(stack: StackState) -> None:
    alice, bob = consented(stack), consented(stack)
    mine = ready_upload(alice)
    pending = alice.post("/uploads", json={"rights": "own", "attest": True}).json()["upload_id"]
    for api, upload_id in (
        (bob, mine),
        (alice, pending),
        (alice, "01JUNKNOWNUPLOAD0000000000"),
        (alice, "not-an-id"),
    ):
        answer = ask(api, init_image=upload_id, strength=0.5)
        assert answer.status_code == 404, (upload_id, answer.text)
        assert answer.json()["code"] == "not_found"
    # Nothing was made for any of them.
    assert bob.get("/me/generations").json()["items"] == []


def test_without_a_size_an_upload_keeps_its_shape(stack: StackState) -> None:
    alice = consented(stack)
    wide = io.BytesIO()
    Image.effect_noise((640, 360), 60).convert("RGB").save(wide, "PNG")
    upload_id = upload(alice, wide.getvalue(), "image/png")
    assert settled(alice, upload_id)["status"] == "ready"
    answer = ask(alice, init_image=upload_id, strength=0.5)
    assert answer.status_code == 202, answer.text
    # 16:9, the preset shape nearest 640 x 360, not the default square
    assert (answer.json()["width"], answer.json()["height"]) == (768, 448)


def test_a_published_image_is_restyled_as_a_remix_of_it(stack: StackState) -> None:
    alice, bob = consented(stack), consented(stack)
    source = published(alice, ask(alice, width=256, height=320).json()["id"])["id"]
    answer = ask(bob, init_image=source, strength=0.7)
    assert answer.status_code == 202, answer.text
    made = answer.json()
    assert made["remix_of"] == source and made["strength"] == 0.7
    assert "init_image" not in made
    # No size asked: the restyle keeps its source's.
    assert (made["width"], made["height"]) == (256, 320)
    published(bob, made["id"])
    page = anonymous(stack).get(f"/gallery/{made['id']}").json()
    assert page["remix_of"] == source and page["strength"] == 0.7
    assert "made_from" not in page


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"strength": 0.5}, "strength"),
        ({"init_image": "x", "strength": 0.01}, "strength"),
        ({"init_image": "x", "strength": 1.5}, "strength"),
        ({"init_image": "x", "strength": 0.3}, "strength"),  # 2 steps times 0.3: not one step
        ({"init_image": "x", "strength": "0.5"}, "strength"),
        ({"init_image": "x", "remix_of": "y"}, "init_image"),
        ({"init_image": ""}, "init_image"),
        ({"init_image": 7}, "init_image"),
    ],
)
def test_a_bad_init_image_or_strength_is_400_naming_the_field(
    stack: StackState, body: dict[str, Any], field: str
) -> None:
    alice = consented(stack)
    answer = ask(alice, **body)
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["code"] == "invalid_request" and field in error["details"]
