"""Uploads over HTTP on the local stack: POST /uploads, the browser's presigned POST straight to
S3 (moto), who may read an upload, what the export holds and what erasure leaves. (The scan
that makes an upload `ready` has its own tests: test_upload_scan.py.)"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image

from local.config import StackState
from tests.support.aws import client, name
from tests.support.client import Api, anonymous, consented, sign_in
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

STATUSES = ("pending", "scanning", "ready", "rejected")


def png() -> bytes:
    noise = np.random.default_rng(20).random((48, 48, 3)) * 255
    out = io.BytesIO()
    Image.fromarray(noise.astype(np.uint8), "RGB").resize((192, 192)).save(out, "PNG")
    return out.getvalue()


def start(api: Api, **body: Any) -> dict[str, Any]:
    answer = api.post("/uploads", json={"rights": "own", "attest": True, **body})
    assert answer.status_code == 201, answer.text
    started: dict[str, Any] = answer.json()
    assert answer.headers["Location"] == f"/uploads/{started['upload_id']}"
    return started


def post_file(started: dict[str, Any], data: bytes, content_type: str) -> requests.Response:
    """What a browser does with the answer: a multipart POST of the fields, then the file."""
    return requests.post(
        started["url"],
        data=started["fields"],
        files={"file": ("picture", data, content_type)},
        timeout=60,
    )


def records_of(state: StackState, owner_id: str) -> list[dict[str, Any]]:
    found = client(state, "dynamodb").query(
        TableName=name(state, "uploads"),
        IndexName="owner_index",
        KeyConditionExpression="owner_id = :o",
        ExpressionAttributeValues={":o": {"S": owner_id}},
    )
    return list(found["Items"])


def objects_of(state: StackState, upload_id: str) -> list[str]:
    listed = client(state, "s3").list_objects_v2(Bucket=name(state, "uploads"))
    return [o["Key"] for o in listed.get("Contents", []) if upload_id in o["Key"]]


def test_a_png_goes_straight_to_s3_and_its_owner_sees_the_upload(stack: StackState) -> None:
    user = consented(stack)
    started = start(user)
    assert set(started) == {"upload_id", "url", "fields", "expires_at"}
    assert started["fields"]["key"] == f"incoming/{started['upload_id']}"
    assert started["fields"]["Content-Type"] == "image/png"
    # Recorded before the answer, pending until the file comes.
    shown = user.get(f"/uploads/{started['upload_id']}")
    assert shown.status_code == 200
    assert shown.json() == {"upload_id": started["upload_id"], "status": "pending"}
    posted = post_file(started, png(), "image/png")
    assert 200 <= posted.status_code < 300, posted.text
    # The scan may already have taken it: whatever state, it is the owner's upload.
    shown = user.get(f"/uploads/{started['upload_id']}")
    assert shown.status_code == 200 and shown.json()["status"] in STATUSES
    assert objects_of(stack, started["upload_id"]) or shown.json()["status"] != "pending"


def test_a_jpeg_declared_as_such_is_fixed_in_the_post(stack: StackState) -> None:
    started = start(consented(stack), content_type="image/jpeg", rights="licensed")
    assert started["fields"]["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rights": "own"}, "attest"),
        ({"rights": "own", "attest": False}, "attest"),
        ({"rights": "own", "attest": "true"}, "attest"),
        ({"rights": "own", "attest": 1}, "attest"),
        ({"rights": "someone else's", "attest": True}, "rights"),
        ({"attest": True}, "rights"),
        ({"rights": "own", "attest": True, "content_type": "text/html"}, "content_type"),
    ],
)
def test_no_attestation_or_rights_no_upload(
    stack: StackState, body: dict[str, Any], field: str
) -> None:
    user = consented(stack)
    answer = user.post("/uploads", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid_request"
    assert field in answer.json()["details"]
    assert user.user_id is not None and records_of(stack, user.user_id) == []


def test_an_upload_is_its_owners_alone(stack: StackState) -> None:
    owner, other = consented(stack), consented(stack)
    upload_id = start(owner)["upload_id"]
    for caller in (other, sign_in(stack, "moderators")):
        answer = caller.get(f"/uploads/{upload_id}")
        assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    # An unknown id reads exactly as someone else's upload does.
    unknown = owner.get("/uploads/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert (unknown.status_code, unknown.json()) == (404, other.get(f"/uploads/{upload_id}").json())
    assert anonymous(stack).get(f"/uploads/{upload_id}").status_code == 401
    assert (
        anonymous(stack).post("/uploads", json={"rights": "own", "attest": True}).status_code == 401
    )


def test_twenty_uploads_an_hour_then_429_with_retry_after(stack: StackState) -> None:
    user, other = consented(stack), consented(stack)
    for _ in range(20):
        start(user)
    refused = user.post("/uploads", json={"rights": "own", "attest": True})
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert user.user_id is not None and len(records_of(stack, user.user_id)) == 20
    start(other)  # a quota of each user's own
    # Generations keep their own quota.
    assert user.post("/generations", json={"prompt": "a lamp", "steps": 1}).status_code == 202


def test_an_unconsented_caller_cannot_upload(stack: StackState) -> None:
    answer = sign_in(stack).post("/uploads", json={"rights": "own", "attest": True})
    assert answer.status_code == 403 and answer.json()["code"] == "consent_required"


def test_the_export_lists_uploads_and_erasure_leaves_none(stack: StackState) -> None:
    user = consented(stack)
    assert user.user_id is not None
    first, second = start(user), start(user, content_type="image/webp")
    assert 200 <= post_file(first, png(), "image/png").status_code < 300
    scanned = wait_for(
        lambda: (
            (b := user.get(f"/uploads/{first['upload_id']}").json())["status"]
            in ("ready", "rejected")
            and b
        ),
        timeout=120,
        what="the upload to be scanned",
    )
    assert scanned["status"] == "ready", scanned

    export_id = user.post("/me/export").json()["export_id"]
    ready = wait_for(
        lambda: (b := user.get(f"/me/export/{export_id}").json())["status"] == "ready" and b,
        timeout=90,
        what="the export",
    )
    archive = zipfile.ZipFile(io.BytesIO(requests.get(ready["url"], timeout=30).content))
    listed = json.loads(archive.read("uploads.json"))
    assert {u["upload_id"] for u in listed} == {first["upload_id"], second["upload_id"]}
    assert {u["rights"] for u in listed} == {"own"}
    # The ready one's clean copy (a PNG without metadata); the never-posted one has none.
    assert archive.read(f"images/uploads/{first['upload_id']}.png").startswith(b"\x89PNG")
    assert f"images/uploads/{second['upload_id']}.png" not in archive.namelist()

    assert user.delete("/me").status_code == 202
    wait_for(
        lambda: (
            not records_of(stack, str(user.user_id))
            and not objects_of(stack, first["upload_id"])
            and not objects_of(stack, second["upload_id"])
        ),
        timeout=120,
        what="every upload record and object of the user to go",
    )


def test_the_local_uploads_bucket_expires_and_announces_as_in_aws(stack: StackState) -> None:
    s3, bucket = client(stack, "s3"), name(stack, "uploads")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    filters = {json.dumps(r["Filter"], sort_keys=True): r["Expiration"]["Days"] for r in rules}
    assert filters[json.dumps({"Prefix": "incoming/"})] == 1
    tag = {"Tag": {"Key": "objektify-expires", "Value": "true"}}
    assert filters[json.dumps(tag, sort_keys=True)] == 30
    (note,) = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    assert note["QueueArn"].endswith(":" + name(stack, "upload-scan"))
    assert note["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "incoming/"}]
    queue = client(stack, "sqs").get_queue_url(QueueName=name(stack, "upload-scan"))["QueueUrl"]
    redrive = client(stack, "sqs").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["RedrivePolicy"]
    )["Attributes"]["RedrivePolicy"]
    assert json.loads(redrive)["deadLetterTargetArn"].endswith(name(stack, "upload-scan") + "-dlq")


def test_a_browser_on_the_local_site_may_post_to_the_uploads_bucket(stack: StackState) -> None:
    started = start(consented(stack))
    asked = requests.options(
        started["url"],
        headers={
            "Origin": "http://127.0.0.1:8123",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=30,
    )
    assert asked.status_code == 200, asked.text
    assert asked.headers["Access-Control-Allow-Origin"] in ("*", "http://127.0.0.1:8123")
    assert "POST" in asked.headers["Access-Control-Allow-Methods"]
    (rule,) = client(stack, "s3").get_bucket_cors(Bucket=name(stack, "uploads"))["CORSRules"]
    assert rule["AllowedMethods"] == ["POST"]
