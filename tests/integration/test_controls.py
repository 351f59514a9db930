"""Generation controls over HTTP (issue 19): guidance, scheduler, aspect and explicit sizes, `n`
(a batch: consecutive seeds, n quota units all or none, one Idempotency-Key), reproducible
bytes, every parameter on the published image's page, and remix."""

from __future__ import annotations

import io
import json
import time
import uuid
from typing import Any

import c2pa
import pytest
import requests

from local.config import StackState
from tests.support.aws import client, name
from tests.support.client import FINAL, Api, anonymous, consented
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
SMALL = {"width": 256, "height": 256, "steps": 2}


def submit(api: Api, **body: Any) -> dict[str, Any]:
    answer = api.post(
        "/generations", json={"prompt": f"a tin robot {uuid.uuid4().hex[:6]}", **body}
    )
    assert answer.status_code == 202, answer.text
    result: dict[str, Any] = answer.json()
    return result


def published(api: Api, generation_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        body: dict[str, Any] = api.get(f"/generations/{generation_id}").json()
        return body if body["status"] in FINAL else None

    final = wait_for(done, timeout=120, what=f"generation {generation_id} to finish")
    assert final["status"] == "published", final
    return final


def original(stack: StackState, generation_id: str) -> bytes:
    stored = client(stack, "s3").get_object(
        Bucket=name(stack, "originals"), Key=f"outputs/{generation_id}.png"
    )
    data: bytes = stored["Body"].read()
    return data


def payload(stack: StackState, generation_id: str) -> dict[str, Any]:
    """What the model was asked for this generation (its request payload, unkeyed submit)."""
    stored = client(stack, "s3").get_object(
        Bucket=name(stack, "inputs"), Key=f"inputs/{generation_id}.json"
    )
    result: dict[str, Any] = json.loads(stored["Body"].read())
    return result


def quota_units(stack: StackState, user_id: str) -> int:
    table = name(stack, "quota")
    items = client(stack, "dynamodb").query(
        TableName=table,
        KeyConditionExpression="user_id = :u",
        ExpressionAttributeValues={":u": {"S": user_id}},
        ConsistentRead=True,
    )["Items"]
    return sum(1 for item in items if "taken_at" in item)


def mine(api: Api) -> list[str]:
    return [g["id"] for g in api.get("/me/generations?limit=50").json()["items"]]


def test_controls_are_recorded_and_the_published_page_shows_every_parameter(
    stack: StackState,
) -> None:
    alice = consented(stack)
    asked = {
        "negative_prompt": "blurry",
        "aspect": "4:3",
        "steps": 2,
        "seed": 41,
        "guidance_scale": 4.5,
        "scheduler": "dpmpp_2m",
    }
    made = submit(alice, **asked)
    assert (made["width"], made["height"]) == (576, 448)
    assert made["guidance_scale"] == 4.5 and made["scheduler"] == "dpmpp_2m"
    assert "batch" not in made and "remix_of" not in made
    done = published(alice, made["id"])
    page = anonymous(stack).get(f"/gallery/{made['id']}")
    assert page.status_code == 200, page.text
    detail = page.json()
    shown = {k: detail[k] for k in ("negative_prompt", "width", "height", "steps", "seed")}
    assert shown == {
        "negative_prompt": "blurry",
        "width": 576,
        "height": 448,
        "steps": 2,
        "seed": 41,
    }
    assert detail["guidance_scale"] == 4.5 and detail["scheduler"] == "dpmpp_2m"
    assert detail["model"] == done["model"] and detail["model"]["version"]
    assert detail["remixes"] == 0 and "remix_of" not in detail
    sent = payload(stack, made["id"])
    assert (sent["guidance_scale"], sent["scheduler"], sent["seed"]) == (4.5, "dpmpp_2m", 41)


def test_the_defaults_keep_todays_guidance_and_scheduler(stack: StackState) -> None:
    made = submit(consented(stack), **SMALL)
    assert made["guidance_scale"] == 7.5 and made["scheduler"] == "euler"
    assert (made["width"], made["height"]) == (256, 256)
    assert "batch" not in made


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"guidance_scale": 0}, "guidance_scale"),
        ({"guidance_scale": 20.5}, "guidance_scale"),
        ({"guidance_scale": "7"}, "guidance_scale"),
        ({"scheduler": "rm -rf /"}, "scheduler"),
        ({"scheduler": "EULER"}, "scheduler"),
        ({"aspect": "1:0"}, "aspect"),
        ({"aspect": "4:3", "width": 512}, "aspect"),
        ({"width": 500}, "width"),
        ({"height": 2048}, "height"),
        ({"width": 128}, "width"),
        ({"n": 0}, "n"),
        ({"n": 5}, "n"),
        ({"n": True}, "n"),
        ({"seed": 2**32 - 2, "n": 4}, "seed"),
        ({"remix_of": ""}, "remix_of"),
    ],
)
def test_bad_values_are_400_with_field_details(
    stack: StackState, body: dict[str, Any], field: str
) -> None:
    alice = consented(stack)
    answer = alice.post("/generations", json={"prompt": "a tin robot", **body})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid_request"
    assert field in answer.json()["details"], answer.json()
    assert mine(alice) == []


def test_the_same_parameters_and_seed_give_the_same_bytes(stack: StackState) -> None:
    alice = consented(stack)
    asked = {**SMALL, "seed": 99, "guidance_scale": 5, "scheduler": "euler_a"}
    first = submit(alice, prompt="a copper kettle on a stove", **asked)
    second = submit(alice, prompt="a copper kettle on a stove", **asked)
    published(alice, first["id"])
    published(alice, second["id"])
    # One request to the model, twice: the payloads are the same bytes' worth of JSON.
    assert payload(stack, first["id"]) == payload(stack, second["id"])
    # Each original carries its own id as an invisible watermark, so the two files differ
    # there; painted again over HTTP by the model server from the same parameters, seed and
    # model, with that id, each is its original to the byte.
    for made in (first, second):
        again = requests.post(
            f"{stack.extra['container_url']}/invocations",
            data=json.dumps(payload(stack, first["id"])),
            headers={"X-Amzn-SageMaker-Custom-Attributes": f"image_id={made['id']}"},
            timeout=120,
        )
        assert again.status_code == 200, again.text
        assert again.content == original(stack, made["id"])
    other = requests.post(
        f"{stack.extra['container_url']}/invocations",
        data=json.dumps({**payload(stack, first["id"]), "seed": 100}),
        headers={"X-Amzn-SageMaker-Custom-Attributes": f"image_id={first['id']}"},
        timeout=120,
    )
    assert other.status_code == 200 and other.content != original(stack, first["id"])


def test_n_makes_a_batch_with_consecutive_seeds_and_takes_n_units(stack: StackState) -> None:
    alice = consented(stack)
    made = submit(alice, n=4, seed=1000, **SMALL)
    batch = made["batch"]
    assert len(batch) == 4 and made["id"] == batch[0] and len(set(batch)) == 4
    assert made["seed"] == 1000
    bodies = [published(alice, generation_id) for generation_id in batch]
    assert [b["seed"] for b in bodies] == [1000, 1001, 1002, 1003]
    assert all(b["batch"] == batch and b["prompt"] == made["prompt"] for b in bodies)
    assert sorted(mine(alice)) == sorted(batch)
    assert quota_units(stack, alice.user_id) == 4


def test_a_batch_larger_than_the_quota_left_is_429_and_makes_nothing(stack: StackState) -> None:
    alice = consented(stack)
    # 27 of the 30 units in use (as 27 submits would leave them), without painting 27 images.
    now_ms = str(int(time.time() * 1000))
    dynamodb = client(stack, "dynamodb")
    for slot in range(27):
        dynamodb.put_item(
            TableName=name(stack, "quota"),
            Item={
                "user_id": {"S": alice.user_id},
                "slot": {"N": str(slot)},
                "taken_at": {"N": now_ms},
                "generation_id": {"S": f"earlier-{slot}"},
            },
        )
    refused = alice.post("/generations", json={"prompt": "four robots", "n": 4, **SMALL})
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert mine(alice) == []
    assert quota_units(stack, alice.user_id) == 27
    three = submit(alice, n=3, **SMALL)
    assert len(three["batch"]) == 3 and quota_units(stack, alice.user_id) == 30
    assert alice.post("/generations", json={"prompt": "one more", **SMALL}).status_code == 429


def test_an_idempotency_key_covers_the_whole_batch(stack: StackState) -> None:
    alice = consented(stack)
    key = str(uuid.uuid4())
    body = {"prompt": "three paper boats", "n": 3, **SMALL}
    first = alice.post("/generations", json=body, headers={"Idempotency-Key": key})
    again = alice.post("/generations", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 202, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["batch"] == first.json()["batch"]
    assert again.json()["seed"] == first.json()["seed"]
    assert sorted(mine(alice)) == sorted(first.json()["batch"])
    assert quota_units(stack, alice.user_id) == 3
    other = alice.post("/generations", json={**body, "n": 2}, headers={"Idempotency-Key": key})
    assert other.status_code == 400 and sorted(mine(alice)) == sorted(first.json()["batch"])


def test_a_remix_inherits_and_overrides_and_both_pages_link(stack: StackState) -> None:
    alice, bob = consented(stack), consented(stack)
    source = submit(
        alice,
        prompt="a lantern in the fog",
        negative_prompt="people",
        seed=5,
        guidance_scale=3,
        scheduler="ddim",
        **SMALL,
    )
    published(alice, source["id"])
    remix = bob.post(
        "/generations", json={"remix_of": source["id"], "seed": 6, "guidance_scale": 9.5}
    )
    assert remix.status_code == 202, remix.text
    made = remix.json()
    assert made["remix_of"] == source["id"]
    inherited = {k: made[k] for k in ("prompt", "negative_prompt", "width", "height", "steps")}
    assert inherited == {
        "prompt": "a lantern in the fog",
        "negative_prompt": "people",
        "width": 256,
        "height": 256,
        "steps": 2,
    }
    assert (made["seed"], made["guidance_scale"], made["scheduler"]) == (6, 9.5, "ddim")
    published(bob, made["id"])
    public = anonymous(stack)
    detail = public.get(f"/gallery/{made['id']}").json()
    assert detail["remix_of"] == source["id"] and detail["guidance_scale"] == 9.5

    def counted() -> dict[str, Any] | None:
        page: dict[str, Any] = public.get(f"/gallery/{source['id']}").json()
        return page if page["remixes"] == 1 else None

    wait_for(counted, timeout=30, what="the source to count its remix")
    # The remix's signed full-size file names its source in its content credentials.
    download = public.get(f"/gallery/{made['id']}/download", allow_redirects=False)
    full = requests.get(download.headers["Location"], timeout=30)
    with c2pa.Reader("image/png", io.BytesIO(full.content)) as reader:
        manifest = reader.get_active_manifest()
    image = next(a for a in manifest["assertions"] if a["label"] == "com.objektify.image")
    assert image["data"] == {"image_id": made["id"], "remix_of": source["id"]}
    # The prompt given overrides the source's too; a deleted remix leaves the count.
    own = submit(bob, remix_of=source["id"], prompt="a lantern in the snow")
    assert own["prompt"] == "a lantern in the snow" and own["seed"] == 5
    assert bob.delete(f"/gallery/{made['id']}").status_code == 204

    def uncounted() -> dict[str, Any] | None:
        page: dict[str, Any] = public.get(f"/gallery/{source['id']}").json()
        return page if page["remixes"] == 0 else None

    wait_for(uncounted, timeout=30, what="the deleted remix to leave the count")


def test_a_remix_of_an_unknown_or_removed_image_is_404(stack: StackState) -> None:
    alice, bob = consented(stack), consented(stack)
    gone = submit(alice, **SMALL)
    published(alice, gone["id"])
    assert alice.delete(f"/gallery/{gone['id']}").status_code == 204
    for image_id in (gone["id"], "01J0000000000000000000000X", "../x; rm -rf"):
        for caller in (alice, bob):
            answer = caller.post("/generations", json={"remix_of": image_id})
            assert answer.status_code == 404, (image_id, answer.text)
            assert answer.json()["code"] == "not_found"
    assert mine(bob) == []
