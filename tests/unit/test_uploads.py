"""Uploads against in-process AWS: the presigned POST's policy (AWS S3 enforces it; moto does
not, so its conditions are read here), the record and its quota, who may see an upload, what
using one keeps, and erasure."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib import resources
from chalicelib.adapters import clock
from chalicelib.adapters.aws import client
from chalicelib.models.audit import AuditEntry
from chalicelib.models.uploads import PENDING, READY, REJECTED, Upload
from chalicelib.services import uploads
from chalicelib.services.errors import InvalidRequest, NotFound, RateLimited
from chalicelib.settings import get_settings
from tests.support import in_process_aws

OWNER, OTHER = "user-uploads-owner", "user-uploads-other"


@pytest.fixture(autouse=True)
def world() -> Iterator[None]:
    with in_process_aws.aws():
        yield


def policy_of(fields: dict[str, str]) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(fields["policy"])))


def conditions(fields: dict[str, str]) -> tuple[dict[str, str], list[list[Any]]]:
    """The policy's exact-match conditions ({field: value}, bucket and key among them) and
    its other ones (["eq"|"starts-with"|"content-length-range", ...])."""
    exact: dict[str, str] = {}
    other: list[list[Any]] = []
    for condition in policy_of(fields)["conditions"]:
        if isinstance(condition, dict):
            ((name, value),) = condition.items()
            exact[name.lower()] = value
        elif condition[0] == "eq":
            exact[condition[1].lstrip("$").lower()] = condition[2]
        else:
            other.append(list(condition))
    return exact, other


def ready(item: Upload) -> Upload:
    """As the upload scan leaves it: the clean PNG (tagged to expire) and the record `ready`."""
    key = resources.clean_upload_key(item.upload_id)
    client("s3").put_object(
        Bucket=get_settings().uploads_bucket,
        Key=key,
        Body=b"\x89PNG clean",
        ContentType="image/png",
        Tagging="objektify-expires=true",
    )
    item.update(actions=[Upload.status.set(READY), Upload.clean_key.set(key)])
    return item


def test_the_post_policy_fixes_the_key_the_type_and_the_size() -> None:
    started = uploads.start(OWNER, "own", "image/jpeg")
    exact, other = conditions(started.fields)
    assert exact["key"] == resources.upload_key(started.upload_id) == started.fields["key"]
    assert exact["bucket"] == get_settings().uploads_bucket
    assert exact["content-type"] == "image/jpeg" == started.fields["Content-Type"]
    assert ["content-length-range", 1, 10 * 1024 * 1024] in other
    # No condition leaves the key, the type or the size open to the client.
    assert not [c for c in other if c[0] == "starts-with"]
    assert [c[0] for c in other] == ["content-length-range"]


def test_the_post_expires_within_a_quarter_of_an_hour() -> None:
    started = uploads.start(OWNER, "licensed")
    expiration = datetime.fromisoformat(policy_of(started.fields)["expiration"])
    left = expiration - clock.now()
    assert timedelta(minutes=14) < left <= timedelta(minutes=15, seconds=5)
    assert started.expires_at[:16] == clock.iso(expiration)[:16]


def test_a_new_upload_is_recorded_pending_before_its_post_is_answered() -> None:
    started = uploads.start(OWNER, "own")
    item = Upload.get(started.upload_id, consistent_read=True)
    assert (item.owner_id, item.status, item.rights) == (OWNER, PENDING, "own")
    assert item.content_type == "image/png"  # the default
    assert item.incoming_key == f"incoming/{started.upload_id}"
    assert item.ttl is not None and not item.used
    assert abs(item.ttl - item.created_at - timedelta(days=30)) < timedelta(seconds=1)


@pytest.mark.parametrize(
    ("rights", "content_type", "field"),
    [("mine", "image/png", "rights"), ("own", "text/html", "content_type")],
)
def test_rights_and_types_outside_the_lists_are_refused(
    rights: str, content_type: str, field: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        uploads.start(OWNER, rights, content_type)
    assert field in refused.value.details
    assert not list(Upload.owner_index.query(OWNER))


def test_the_quota_allows_twenty_uploads_an_hour() -> None:
    for _ in range(20):
        uploads.start(OWNER, "own")
    with pytest.raises(RateLimited) as refused:
        uploads.start(OWNER, "own")
    assert refused.value.retry_after is not None and 1 <= refused.value.retry_after <= 3600
    assert refused.value.details == {"limit": 20, "window_seconds": 3600}
    assert len(list(Upload.owner_index.query(OWNER))) == 20
    uploads.start(OTHER, "own")  # each user's own quota


def test_only_its_owner_sees_an_upload_and_only_a_ready_one_can_be_used() -> None:
    item = Upload.get(uploads.start(OWNER, "own").upload_id)
    assert uploads.owner_view(uploads.owned(OWNER, item.upload_id)) == {
        "upload_id": item.upload_id,
        "status": PENDING,
    }
    for caller, upload_id in ((OTHER, item.upload_id), (OWNER, "../incoming"), (OWNER, "0" * 26)):
        with pytest.raises(NotFound):
            uploads.owned(caller, upload_id)
    with pytest.raises(NotFound):
        uploads.ready_upload_of(OWNER, item.upload_id)  # pending
    ready(item)
    assert uploads.ready_upload_of(OWNER, item.upload_id).clean_key == item.clean_key
    with pytest.raises(NotFound):
        uploads.ready_upload_of(OTHER, item.upload_id)
    assert uploads.clean_bytes(item) == b"\x89PNG clean"


def test_a_rejected_upload_shows_its_category_only() -> None:
    item = Upload.get(uploads.start(OWNER, "own").upload_id)
    item.update(actions=[Upload.status.set(REJECTED), Upload.reason.set("illegal")])
    assert uploads.owner_view(item) == {
        "upload_id": item.upload_id,
        "status": REJECTED,
        "reason": "illegal",
    }


def test_a_used_upload_no_longer_expires() -> None:
    item = ready(Upload.get(uploads.start(OWNER, "own").upload_id))
    uploads.mark_used(item)
    uploads.mark_used(item)  # again: nothing changes
    stored = Upload.get(item.upload_id, consistent_read=True)
    assert stored.used and stored.ttl is None
    tags = client("s3").get_object_tagging(Bucket=get_settings().uploads_bucket, Key=item.clean_key)
    assert tags["TagSet"] == []


def test_a_moderators_view_is_audited() -> None:
    item = ready(Upload.get(uploads.start(OWNER, "own").upload_id))
    url = uploads.moderator_view_url(item, "moderator-1")
    assert item.clean_key is not None and item.clean_key in url and "Signature" in url
    (entry,) = list(AuditEntry.by_target.query(item.upload_id))
    assert (entry.actor, entry.action, entry.target_type) == ("moderator-1", "view", "upload")


def test_export_lists_the_uploads_and_erasure_leaves_none() -> None:
    bucket = get_settings().uploads_bucket
    s3 = client("s3")
    kept = uploads.start(OTHER, "own")
    first = ready(Upload.get(uploads.start(OWNER, "own").upload_id))
    second = Upload.get(uploads.start(OWNER, "licensed", "image/webp").upload_id)
    s3.put_object(Bucket=bucket, Key=second.incoming_key, Body=b"posted")
    s3.put_object(Bucket=bucket, Key=resources.quarantine_key(second.incoming_key), Body=b"x")
    listed = uploads.exported(OWNER)
    assert [u["upload_id"] for u in listed] == [first.upload_id, second.upload_id]
    assert listed[0]["image"] == f"uploads/{first.upload_id}.png"
    assert listed[1]["rights"] == "licensed" and listed[1]["image"] is None
    uploads.erase_all(OWNER)
    uploads.erase_all(OWNER)  # a retried erasure
    assert not list(Upload.owner_index.query(OWNER))
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert all(first.upload_id not in key and second.upload_id not in key for key in left)
    assert Upload.get(kept.upload_id).owner_id == OTHER
    from chalicelib.services import quota

    assert quota.slots_in_use(uploads.quota_owner(OWNER)) == {}
