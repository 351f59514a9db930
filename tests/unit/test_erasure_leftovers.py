"""What an erasure used to leave behind: a model output that arrives after its generation was
erased, and views through review links that name the erased moderator."""

from __future__ import annotations

from chalicelib import resources
from chalicelib.adapters import ids, storage
from chalicelib.adapters.aws import client
from chalicelib.models.audit import AuditEntry
from chalicelib.services import audit, erasure, scan
from chalicelib.settings import get_settings
from tests.support.in_process_aws import aws


def test_an_output_whose_generation_was_erased_is_deleted_when_it_arrives() -> None:
    with aws():
        bucket = get_settings().originals_bucket
        key = resources.output_key(ids.new_id())
        storage.put_bytes(bucket, key, b"\x89PNG late output", "image/png")
        assert scan.scan_output(bucket, key) == "ignored"
        assert client("s3").list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount") == 0


def test_views_through_a_moderators_review_links_are_anonymised_with_them() -> None:
    with aws():
        audit.record(audit.Event(audit.link_actor("mod-1"), "view", "image", ids.new_id()))
        audit.record(audit.Event("mod-1", "approve", "image", ids.new_id()))
        erasure.anonymise_audit("mod-1")
        actors = {entry.actor for entry in AuditEntry.scan()}
        assert actors == {erasure.ERASED_ACTOR}
