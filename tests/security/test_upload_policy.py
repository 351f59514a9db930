"""Attacks on an upload's presigned POST: another key, a larger file, another content type,
extra fields. AWS S3 enforces a POST policy; the local emulator (moto) does not, so these are
judged here by S3's documented rules against the policy the service signs (the upload scan
checks the stored object's size and type again: tests/unit/test_upload_scan.py).

S3's rules: every form field but `policy`, the signature, `file` and `x-ignore-*` must match
a condition; `{"f": v}` and `["eq", "$f", v]` match exactly, `["starts-with", "$f", p]` by
prefix, `["content-length-range", lo, hi]` bounds the file's size; the policy must not have
expired; the bucket is the URL's."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib import resources
from chalicelib.adapters import clock
from chalicelib.services import uploads
from chalicelib.settings import get_settings
from tests.support import in_process_aws

MB = 1024 * 1024
EXEMPT = {"policy", "x-amz-signature", "file"}


@pytest.fixture(autouse=True)
def aws() -> Iterator[None]:
    with in_process_aws.aws():
        yield


def accepted(
    fields: dict[str, str], size: int, bucket: str, at: datetime | None = None
) -> list[str]:
    """Why S3 would refuse this POST (empty: it would store it)."""
    policy = json.loads(base64.b64decode(fields["policy"]))
    refusals: list[str] = []
    if datetime.fromisoformat(policy["expiration"]) <= (at or clock.now()):
        refusals.append("expired")
    form = {name.lower(): value for name, value in fields.items()} | {"bucket": bucket}
    covered: set[str] = set()
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            ((name, want),) = condition.items()
            op, name = "eq", name.lower()
        elif condition[0] == "content-length-range":
            if not condition[1] <= size <= condition[2]:
                refusals.append(f"size {size}")
            continue
        else:
            op, name, want = condition[0], condition[1].lstrip("$").lower(), condition[2]
        covered.add(name)
        got = form.get(name)
        if got is None or (got != want if op == "eq" else not got.startswith(want)):
            refusals.append(f"{name}={got!r}")
    if not any(c[0] == "content-length-range" for c in policy["conditions"] if isinstance(c, list)):
        refusals.append("no size limit")  # nothing would bound it: the service must set one
    for name in form:
        if name not in covered | EXEMPT and not name.startswith("x-ignore-"):
            refusals.append(f"field {name} not in the policy")
    return refusals


def started(rights: str = "own", content_type: str = "image/png") -> uploads.Started:
    return uploads.start("user-policy-attacker", rights, content_type)


def bucket() -> str:
    return get_settings().uploads_bucket


def test_the_post_as_signed_is_accepted_for_a_file_of_any_allowed_size() -> None:
    post = started()
    for size in (1, 5 * MB, 10 * MB):
        assert accepted(post.fields, size, bucket()) == []


def test_another_key_is_refused_whoever_it_belongs_to() -> None:
    mine, theirs = started(), uploads.start("user-policy-victim", "own", "image/png")
    for key in (
        resources.upload_key(theirs.upload_id),  # overwrite another user's pending upload
        resources.clean_upload_key(theirs.upload_id),  # or a scanned, clean one
        f"incoming/{mine.upload_id}/../../clean/{theirs.upload_id}.png",
        f"incoming/{mine.upload_id}x",
        "incoming/${filename}",  # S3's substitution of the file's own name
        resources.quarantine_key(resources.upload_key(theirs.upload_id)),
    ):
        assert accepted({**mine.fields, "key": key}, MB, bucket()), key


def test_a_larger_or_empty_file_is_refused() -> None:
    post = started()
    assert accepted(post.fields, 10 * MB + 1, bucket()) == ["size 10485761"]
    assert accepted(post.fields, 11 * MB, bucket())
    assert accepted(post.fields, 0, bucket()) == ["size 0"]


@pytest.mark.parametrize(
    "content_type", ["text/html", "image/svg+xml", "image/jpeg", "image/png; charset=utf-8", ""]
)
def test_another_content_type_is_refused(content_type: str) -> None:
    post = started()  # declared image/png
    assert accepted({**post.fields, "Content-Type": content_type}, MB, bucket())


def test_fields_the_policy_does_not_name_are_refused() -> None:
    post = started(content_type="image/webp")
    for extra in (
        {"acl": "public-read"},
        {"success_action_redirect": "https://attacker.example/"},
        {"x-amz-meta-owner": "someone-else"},
        {"tagging": "<Tagging><TagSet></TagSet></Tagging>"},  # dodge the expiry rule
        {"Cache-Control": "public, max-age=31536000"},
        {"x-amz-storage-class": "GLACIER"},
    ):
        assert accepted({**post.fields, **extra}, MB, bucket()), extra


def test_another_bucket_and_a_late_post_are_refused() -> None:
    post = started()
    assert accepted(post.fields, MB, get_settings().public_bucket)
    late = clock.now() + timedelta(seconds=get_settings().upload_post_seconds + 1)
    assert accepted(post.fields, MB, bucket(), at=late) == ["expired"]


def test_each_upload_gets_a_policy_of_its_own() -> None:
    first, second = started(), started()
    assert first.fields["key"] != second.fields["key"]
    assert first.fields["policy"] != second.fields["policy"]
    any_policy: Any = json.loads(base64.b64decode(first.fields["policy"]))
    assert not [
        c for c in any_policy["conditions"] if isinstance(c, list) and c[0] == "starts-with"
    ]
