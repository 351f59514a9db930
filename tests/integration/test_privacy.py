"""Privacy through the local stack: export, erasure (and its resumption), the training dataset."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from chalicelib.services.display_names import name_key
from local.config import StackState, app_env
from tests.support.aws import client, name
from tests.support.client import Api, anonymous, consented, sign_in
from tests.support.stack import running_stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
FINAL = {"published", "in_review", "rejected", "failed", "removed"}


@pytest.fixture(scope="module")
def privacy_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackState]:
    """Its own stack: erasure and dataset checks scan every table and bucket."""
    with running_stack(
        Path(tmp_path_factory.mktemp("privacy")), {"OBJEKTIFY_DATASET_SHARD_SIZE": "2"}
    ) as state:
        yield state


def make(api: Api, prompt: str) -> dict:
    created = api.post("/generations", json={"prompt": prompt, "steps": 1}).json()

    def done() -> dict | None:
        body = api.get(f"/generations/{created['id']}").json()
        return body if body["status"] in FINAL else None

    return wait_for(done, timeout=90, what="the generation to finish")


def everything_stored(state: StackState) -> str:
    """Every item of every table and every object (key and bytes) of every bucket, as text."""
    dynamodb, s3 = client(state, "dynamodb"), client(state, "s3")
    parts: list[str] = []
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            parts.append(json.dumps(page["Items"], default=str))
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for obj in page.get("Contents", []):
                parts.append(obj["Key"])
                body = s3.get_object(Bucket=bucket["Name"], Key=obj["Key"])["Body"].read()
                parts.append(body.decode("latin-1"))
    return "\n".join(parts)


def test_an_export_holds_everything_the_user_did(privacy_stack: StackState) -> None:
    alice = consented(privacy_stack)
    other = consented(privacy_stack)
    mine = make(alice, "a glass teapot")
    theirs = make(other, "a copper kettle")
    assert (
        alice.post(
            f"/gallery/{theirs['id']}/reports", json={"reason": "copyright", "note": "my photo"}
        ).status_code
        == 202
    )
    moderator = sign_in(privacy_stack, "moderators")
    moderator.post(
        f"/moderation/users/{alice.user_id}/restriction",
        json={"action": "suspend", "reason": "test", "until": "2099-01-01T00:00:00Z"},
    )
    moderator.post(
        f"/moderation/users/{alice.user_id}/restriction",
        json={"action": "restore", "reason": "test over"},
    )
    started = alice.post("/me/export")
    assert started.status_code == 202
    export_id = started.json()["export_id"]
    ready = wait_for(
        lambda: (b := alice.get(f"/me/export/{export_id}").json())["status"] == "ready" and b,
        timeout=60,
        what="the export",
    )
    assert other.get(f"/me/export/{export_id}").status_code == 404
    archive = zipfile.ZipFile(io.BytesIO(requests.get(ready["url"], timeout=10).content))
    names = set(archive.namelist())
    assert {
        "profile.json",
        "consents.json",
        "generations.json",
        "reports_filed.json",
        "decisions.json",
        f"images/{mine['id']}.png",
    } <= names
    profile = json.loads(archive.read("profile.json"))
    assert profile["user_id"] == alice.user_id and profile["status"] == "active"
    consents = json.loads(archive.read("consents.json"))
    assert [c["terms_version"] for c in consents] == [1]
    assert consents[0]["address_hash"] and len(consents[0]["address_hash"]) == 64
    assert [g["id"] for g in json.loads(archive.read("generations.json"))] == [mine["id"]]
    assert [
        (r["image_id"], r["reason"], r["note"])
        for r in json.loads(archive.read("reports_filed.json"))
    ] == [(theirs["id"], "copyright", "my photo")]
    decisions = json.loads(archive.read("decisions.json"))
    assert [(d["decision"], d["about"]) for d in decisions] == [
        ("suspend", {"type": "account"}),
        ("restore", {"type": "account"}),
    ]
    assert decisions[0]["until"] == "2099-01-01T00:00:00.000Z"
    assert archive.read(f"images/{mine['id']}.png").startswith(b"\x89PNG")


def exported(api: Api) -> zipfile.ZipFile:
    export_id = api.post("/me/export").json()["export_id"]
    ready = wait_for(
        lambda: (b := api.get(f"/me/export/{export_id}").json())["status"] == "ready" and b,
        timeout=60,
        what="the export",
    )
    return zipfile.ZipFile(io.BytesIO(requests.get(ready["url"], timeout=10).content))


def keys_in(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


def test_an_export_holds_no_refused_original_no_scan_and_no_moderator(
    privacy_stack: StackState,
) -> None:
    fay = consented(privacy_stack)
    kept = make(fay, "a clay vase")
    removed = make(fay, "a clay jug")
    assert kept["status"] == removed["status"] == "published"
    moderator = sign_in(privacy_stack, "moderators")
    decided = moderator.post(
        f"/moderation/images/{removed['id']}/decision",
        json={"action": "remove", "reason": "breaks rule 4"},
    )
    assert decided.status_code == 200, decided.text
    moderator.post(
        f"/moderation/users/{fay.user_id}/restriction",
        json={"action": "suspend", "reason": "one removal too many"},
    )
    moderator.post(
        f"/moderation/users/{fay.user_id}/restriction", json={"action": "restore", "reason": "ok"}
    )
    # The original is still held (an appeal may restore it), just not handed out.
    s3 = client(privacy_stack, "s3")
    originals = s3.list_objects_v2(Bucket=name(privacy_stack, "originals"))["Contents"]
    assert any(removed["id"] in o["Key"] for o in originals)

    archive = exported(fay)

    names = set(archive.namelist())
    assert f"images/{kept['id']}.png" in names
    assert not [n for n in names if removed["id"] in n]
    generations = {g["id"]: g for g in json.loads(archive.read("generations.json"))}
    assert generations[removed["id"]]["status"] == "removed"
    assert generations[removed["id"]]["prompt"] == "a clay jug"
    documents = [json.loads(archive.read(n)) for n in names if n.endswith(".json")]
    found = {k.lower() for doc in documents for k in keys_in(doc)}
    assert not {k for k in found if "scan" in k or "label" in k or "score" in k}, found
    text = "\n".join(archive.read(n).decode("latin-1") for n in names)
    assert moderator.user_id not in text
    decisions = json.loads(archive.read("decisions.json"))
    removal = [d for d in decisions if d["about"] == {"type": "image", "id": removed["id"]}]
    assert [(d["decision"], d["reason"], d["decided_by"]) for d in removal] == [
        ("remove", "breaks rule 4", "a moderator")
    ]
    assert removal[0]["category"] and removal[0]["at"]
    assert {d["decided_by"] for d in decisions} == {"a moderator"}


def test_asking_again_while_an_export_is_pending_answers_the_same_export(
    privacy_stack: StackState,
) -> None:
    gus = consented(privacy_stack)
    sqs = client(privacy_stack, "sqs")
    queue = sqs.get_queue_url(QueueName=name(privacy_stack, "exports"))["QueueUrl"]
    # The work waits a few seconds before any worker sees it: the export stays pending.
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"DelaySeconds": "8"})
    try:
        with ThreadPoolExecutor(4) as pool:
            answers = list(
                pool.map(lambda _: Api(privacy_stack, token=gus.token).post("/me/export"), range(4))
            )
        assert [a.status_code for a in answers] == [202] * 4
        (first,) = {a.json()["export_id"] for a in answers}
        again = gus.post("/me/export")
        assert again.status_code == 202 and again.json()["export_id"] == first
        assert gus.get(f"/me/export/{first}").json()["status"] == "pending"
    finally:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"DelaySeconds": "0"})
    wait_for(
        lambda: gus.get(f"/me/export/{first}").json()["status"] == "ready",
        timeout=60,
        what="the export",
    )
    after = gus.post("/me/export")
    assert after.status_code == 202 and after.json()["export_id"] != first


def test_erasure_leaves_nothing_naming_the_user(privacy_stack: StackState) -> None:
    bob = consented(privacy_stack)
    image = make(bob, "a wooden bridge")
    assert image["status"] == "published"
    # A display name, with its claim and its copies on the gallery entries.
    display_name = f"Bob Bridge {uuid.uuid4().hex[:8]}"
    assert bob.request("PATCH", "/me", json={"display_name": display_name}).status_code == 200
    assert display_name in everything_stored(privacy_stack)
    assert name_key(display_name) in everything_stored(privacy_stack)
    other = consented(privacy_stack)
    theirs = make(other, "a stone wall")
    bob.post(f"/gallery/{theirs['id']}/reports", json={"reason": "other"})
    bob.post("/me/export")
    sign_in(privacy_stack, "moderators").post(
        f"/moderation/users/{bob.user_id}/restriction", json={"action": "restore", "reason": "x"}
    )
    assert bob.user_id in everything_stored(privacy_stack)

    assert bob.delete("/me").status_code == 202
    public = anonymous(privacy_stack)
    assert public.get(f"/gallery/{image['id']}").status_code == 404  # at once
    assert image["id"] not in [i["id"] for i in public.get("/gallery?limit=100").json()["items"]]
    for attempt in (
        bob.get("/me"),
        bob.post("/consents", json={"version": 1, "sha256": "0" * 64}),
        bob.get("/me/generations"),
        bob.post("/generations", json={"prompt": "x"}),
    ):
        assert attempt.status_code in (401, 403), attempt.text

    wait_for(
        lambda: bob.user_id not in everything_stored(privacy_stack),
        timeout=60,
        what="every trace of the user to go",
    )
    assert display_name not in everything_stored(privacy_stack)
    assert name_key(display_name) not in everything_stored(privacy_stack)  # its claim
    idp = client(privacy_stack, "cognito-idp")
    users = idp.list_users(UserPoolId=privacy_stack.user_pool_id, Filter=f'sub = "{bob.user_id}"')
    assert users["Users"] == []
    stored = everything_stored(privacy_stack)
    assert "anonymous#" in stored  # a consent to version 1 existed, from nobody in particular
    assert public.get(f"/users/{bob.user_id}/gallery").json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("die_after", ["delete_content", "tombstone_consents", "anonymise_audit"])
def test_an_erasure_killed_part_way_converges_when_run_again(
    privacy_stack: StackState, die_after: str
) -> None:
    carol = consented(privacy_stack)
    make(carol, "a paper lantern")
    make(carol, "a glass marble")
    env = {**os.environ, **app_env(privacy_stack, Path(privacy_stack.extra["dir"]))}
    run = [sys.executable, "-m", "tests.support.erase_partially", carol.user_id]
    killed = subprocess.run([*run, "--die-after", die_after], cwd=ROOT, env=env, timeout=120)
    assert killed.returncode == 137
    assert carol.user_id in everything_stored(privacy_stack)  # it really stopped part-way
    subprocess.run(run, cwd=ROOT, env=env, timeout=120, check=True)
    assert carol.user_id not in everything_stored(privacy_stack)


def test_the_dataset_holds_exactly_the_eligible_images_with_consent_provenance(
    privacy_stack: StackState,
) -> None:
    dana, erin = consented(privacy_stack), consented(privacy_stack)
    kept = [make(dana, f"a field of tulips {i}") for i in range(3)]
    removed = make(dana, "a removed picture")
    sign_in(privacy_stack, "moderators").post(
        f"/moderation/images/{removed['id']}/decision", json={"action": "remove", "reason": "test"}
    )
    deleted = make(dana, "a deleted picture")
    dana.delete(f"/gallery/{deleted['id']}")
    erased = make(erin, "an erased picture")
    erin.delete("/me")
    wait_for(
        lambda: erin.user_id not in everything_stored(privacy_stack), timeout=60, what="the erasure"
    )

    out = f"s3://{name(privacy_stack, 'exports')}/datasets/{uuid.uuid4().hex}"
    env = {**os.environ, "OBJEKTIFY_LOCAL_DIR": privacy_stack.extra["dir"]}
    env.pop("AWS_ENDPOINT_URL", None)
    command = [sys.executable, "-m", "objektify.cli", "dataset", "export", "--out", out]
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    s3 = client(privacy_stack, "s3")
    bucket, prefix = out[5:].split("/", 1)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"])
    shards = [k for k in keys if k.endswith(".tar")]
    records: dict[str, dict] = {}
    images: set[str] = set()
    first_bytes = {}
    for key in shards:
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        first_bytes[key] = data
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive.getmembers():
                content = archive.extractfile(member).read()
                stem, ext = member.name.rsplit(".", 1)
                if ext == "json":
                    records[stem] = json.loads(content)
                else:
                    images.add(stem)
                    assert content.startswith(b"\x89PNG") and b"trainedAlgorithmicMedia" in content
    ids = set(records)
    assert {k["id"] for k in kept} <= ids
    assert not ids & {removed["id"], deleted["id"], erased["id"]}
    assert images == ids
    terms = anonymous(privacy_stack).get("/terms/current").json()
    for record in records.values():
        assert record["terms_version"] == 1 and record["terms_sha256"] == terms["sha256"]
        assert record["model"]["name"]
        assert "owner_id" not in record and "creator" not in record
    manifest = s3.get_object(Bucket=bucket, Key=f"{prefix}/manifest.jsonl")["Body"].read().decode()
    assert {json.loads(line)["id"] for line in manifest.splitlines()} == ids
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert f"{len(shards)} unchanged" in second.stdout, (first.stdout, second.stdout)
    for key, data in first_bytes.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
