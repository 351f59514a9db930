"""The upload scan against in-process AWS: each outcome, what it writes, and redelivery."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from chalicelib import resources
from chalicelib.adapters.image_scanner import Label
from chalicelib.settings import get_settings
from tests.support import in_process_aws
from tests.unit.test_upload_images import jpeg_with_gps, picture

OWNER = "user-upload-scan"


@pytest.fixture(autouse=True)
def world() -> Iterator[None]:
    with in_process_aws.aws():
        in_process_aws.consented_profile(OWNER)
        yield


class StandIn:
    name = "stand-in"

    def __init__(self, found: tuple[tuple[str, float], ...] = ()) -> None:
        self.found = found
        self.seen: list[tuple[int, int]] = []

    def scan(self, image: Image.Image, png: bytes) -> list[Label]:
        self.seen.append(image.size)
        return [Label(name, score) for name, score in self.found]


@pytest.fixture
def scanner(monkeypatch: pytest.MonkeyPatch) -> StandIn:
    from chalicelib.services import upload_scan

    chosen = StandIn()
    monkeypatch.setattr(upload_scan, "get_scanner", lambda name: chosen)
    return chosen


def uploaded(data: bytes, content_type: str, stored_as: str | None = None) -> Any:
    """An upload record as POST /uploads leaves it, and the object the presigned POST wrote."""
    from chalicelib.adapters import clock, ids
    from chalicelib.adapters.aws import client
    from chalicelib.models.uploads import PENDING, Upload

    upload_id = ids.new_id()
    now = clock.now()
    item = Upload(
        upload_id,
        owner_id=OWNER,
        status=PENDING,
        rights="own",
        attested_at=now,
        content_type=content_type,
        created_at=now,
        expires_at=now,
        incoming_key=resources.upload_key(upload_id),
    )
    item.save()
    client("s3").put_object(
        Bucket=get_settings().uploads_bucket,
        Key=item.incoming_key,
        Body=data,
        ContentType=stored_as or content_type,
    )
    return item


def scan(item: Any) -> str:
    from chalicelib.services import upload_scan

    return upload_scan.scan_upload(get_settings().uploads_bucket, item.incoming_key)


def record(item: Any) -> Any:
    from chalicelib.models.uploads import Upload

    return Upload.get(item.upload_id, consistent_read=True)


def keys() -> set[str]:
    from chalicelib.adapters.aws import client

    listed = client("s3").list_objects_v2(Bucket=get_settings().uploads_bucket)
    return {entry["Key"] for entry in listed.get("Contents", [])}


def statements() -> list[Any]:
    from chalicelib.services import statements as made

    return made.every_about(OWNER)


def strikes() -> int:
    from chalicelib.models.users import UserProfile

    return int(UserProfile.get(OWNER, consistent_read=True).strikes or 0)


def test_a_jpeg_with_gps_becomes_a_clean_png_and_the_original_goes(scanner: StandIn) -> None:
    from chalicelib.adapters import storage

    item = uploaded(jpeg_with_gps(), "image/jpeg")
    assert scan(item) == "ready"
    done = record(item)
    assert done.status == "ready" and done.reason is None
    assert done.clean_key and len(done.fingerprint or "") == 64
    assert keys() == {done.clean_key}
    clean = storage.read(get_settings().uploads_bucket, done.clean_key, 10_000_000)
    image = Image.open(io.BytesIO(clean))
    assert image.format == "PNG" and not image.getexif() and b"PhoneMaker" not in clean
    assert scanner.seen == [(320, 200)]
    from chalicelib.adapters.aws import client

    tags = client("s3").get_object_tagging(Bucket=get_settings().uploads_bucket, Key=done.clean_key)
    assert [(t["Key"], t["Value"]) for t in tags["TagSet"]] == [resources.UPLOAD_EXPIRY_TAG]
    # A redelivered event changes nothing.
    assert scan(item) == "unchanged" and record(item).clean_key == done.clean_key


@pytest.mark.parametrize(
    ("data", "content_type", "stored_as"),
    [
        (b"<html><script>alert(1)</script></html>", "image/png", "text/html"),
        (b"<html><script>alert(1)</script></html>", "image/png", None),
        (jpeg_with_gps() + b"PK\x05\x06" + b"\x00" * 18, "image/jpeg", None),
    ],
)
def test_an_invalid_file_is_refused_without_a_strike(
    scanner: StandIn, data: bytes, content_type: str, stored_as: str | None
) -> None:
    item = uploaded(data, content_type, stored_as)
    assert scan(item) == "rejected:invalid_file"
    assert (record(item).status, record(item).reason) == ("rejected", "invalid_file")
    assert keys() == set() and statements() == [] and strikes() == 0
    assert scanner.seen == []


def test_an_oversize_object_is_refused_before_it_is_read(
    scanner: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.adapters import storage

    def never(*args: object) -> bytes:
        raise AssertionError("read an oversize object")

    monkeypatch.setattr(storage, "read", never)
    item = uploaded(b"\x00" * (get_settings().max_upload_bytes + 1), "image/png")
    assert scan(item) == "rejected:invalid_file"


def test_a_hash_list_match_rejects_with_evidence_statement_audit_and_strike(
    scanner: StandIn, tmp_path: Path
) -> None:
    from chalicelib import upload_images
    from chalicelib.models.audit import AuditEntry
    from chalicelib.provenance import fingerprints
    from chalicelib.services import hash_lists

    data = jpeg_with_gps()
    clean = upload_images.clean_png(upload_images.verify_upload(data, "image/jpeg"))
    listed = tmp_path / "known.csv"
    listed.write_text(f"pdq,quality\n{fingerprints.compute(clean.image).hex},100\n")
    hash_lists.import_list(listed, "known-list", "illegal")
    item = uploaded(data, "image/jpeg")
    assert scan(item) == "rejected:illegal"
    assert (record(item).status, record(item).reason) == ("rejected", "illegal")
    assert keys() == {resources.quarantine_key(item.incoming_key)}  # the evidence, only
    [made] = statements()
    assert made.category == "illegal" and made.decision == "content_removed" and made.strike
    assert "known-list" not in made.facts + made.explanation
    assert scanner.seen == []  # the list decided
    entries = [e for e in AuditEntry.scan() if e.target_type == "upload"]
    assert [(e.action, e.target_id) for e in entries] == [("reject", item.upload_id)]
    assert entries[0].details["list"] == "known-list"  # for moderators
    assert strikes() == 1


def test_the_scanners_reject_band_rejects_with_a_strike(scanner: StandIn) -> None:
    scanner.found = (("Violence", 0.95),)
    item = uploaded(jpeg_with_gps(), "image/jpeg")
    assert scan(item) == "rejected:violent"
    assert (record(item).status, record(item).reason) == ("rejected", "violent")
    assert keys() == {resources.quarantine_key(item.incoming_key)}
    [made] = statements()
    assert made.category == "violent" and made.strike and made.image_id is None
    assert made.upload_id == item.upload_id and "Violence" in made.facts
    assert item.upload_id not in made.facts  # the facts go into the transparency database
    assert strikes() == 1
    assert scan(item) == "unchanged" and strikes() == 1


def test_the_scanners_review_band_rejects_without_a_strike(scanner: StandIn) -> None:
    scanner.found = (("Violence", 0.6),)
    item = uploaded(jpeg_with_gps(), "image/jpeg")
    assert scan(item) == "rejected:violent"
    [made] = statements()
    assert not made.strike and strikes() == 0


def test_an_erased_owners_upload_leaves_nothing(scanner: StandIn) -> None:
    item = uploaded(jpeg_with_gps(), "image/jpeg")
    item.delete()
    assert scan(item) == "ignored" and keys() == set()


def test_a_flat_picture_is_not_looked_up(scanner: StandIn) -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(out, "PNG")
    item = uploaded(out.getvalue(), "image/png")
    assert scan(item) == "ready"
    assert len(record(item).fingerprint) == 64  # stored, though too flat to be looked up


def test_a_picture_the_service_removed_is_rejected(scanner: StandIn) -> None:
    from chalicelib.provenance import fingerprints
    from chalicelib.services import hash_lists

    removed = picture((512, 512))
    hash_lists.block_image("IMAGE1", fingerprints.compute(removed).hex, "violent")
    saved = io.BytesIO()
    removed.save(saved, "PNG")
    item = uploaded(saved.getvalue(), "image/png")
    assert scan(item) == "rejected:violent"


@pytest.mark.parametrize("found", [(), (("Violence", 0.95),)], ids=["ready", "rejected"])
def test_an_upload_erased_during_its_scan_leaves_no_copy(
    monkeypatch: pytest.MonkeyPatch, found: tuple[tuple[str, float], ...]
) -> None:
    item = uploaded(jpeg_with_gps(), "image/jpeg")

    class ErasedWhileScanning(StandIn):
        def scan(self, image: Image.Image, png: bytes) -> list[Label]:
            record(item).delete()  # the erasure deletes the record (and, itself, the original)
            return [Label(name, score) for name, score in found]

    from chalicelib.services import upload_scan

    monkeypatch.setattr(upload_scan, "get_scanner", lambda name: ErasedWhileScanning())
    assert scan(item) == "unchanged"
    assert keys() == {item.incoming_key}  # no clean copy, no evidence
    assert statements() == [] and strikes() == 0


def delivered(item: Any, receive_count: int) -> bool:
    """The upload scan queue's handler given S3's event for `item` on its `receive_count`th
    delivery: whether the message was handled (else it is delivered again, or dead-lettered
    after the last)."""
    import json

    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from chalicelib.events import upload_scan

    created = {
        "Records": [
            {
                "eventName": "ObjectCreated:Post",
                "s3": {
                    "bucket": {"name": get_settings().uploads_bucket},
                    "object": {"key": item.incoming_key},
                },
            }
        ]
    }
    message = {
        "messageId": "message",
        "receiptHandle": "handle",
        "body": json.dumps(created),
        "attributes": {"ApproximateReceiveCount": str(receive_count)},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:uploads",
    }
    try:
        answer = upload_scan.on_upload_created({"Records": [message]}, None)  # as Lambda calls it
    except BatchProcessingError:  # every record of the batch failed: Lambda retries them all
        return False
    return not answer["batchItemFailures"]


def test_a_scan_that_fails_on_every_delivery_refuses_the_upload_on_the_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.services import upload_scan

    class Down(StandIn):
        def scan(self, image: Image.Image, png: bytes) -> list[Label]:
            raise ConnectionError("the scanner is down")

    monkeypatch.setattr(upload_scan, "get_scanner", lambda name: Down())
    item = uploaded(jpeg_with_gps(), "image/jpeg")
    last = get_settings().queue_max_receives
    for receive_count in range(1, last):
        assert not delivered(item, receive_count)
        assert record(item).status == "scanning" and keys() == {item.incoming_key}
    # The last delivery: the owner learns the picture could not be checked; the message still
    # fails, so the dead-letter queue shows operators the failure.
    assert not delivered(item, last)
    assert (record(item).status, record(item).reason) == ("rejected", "scan_failed")
    assert keys() == set() and statements() == [] and strikes() == 0
    monkeypatch.setattr(upload_scan, "get_scanner", lambda name: StandIn())
    assert delivered(item, 1)  # redriven from the dead-letter queue: nothing changes
    assert record(item).reason == "scan_failed"


def test_giving_up_takes_away_what_a_failed_try_left(scanner: StandIn) -> None:
    from chalicelib.adapters import storage
    from chalicelib.services import upload_scan

    item = uploaded(jpeg_with_gps(), "image/jpeg")
    bucket = get_settings().uploads_bucket
    # A try that died after copying evidence and writing a clean copy, before either was named.
    storage.put_bytes(bucket, resources.quarantine_key(item.incoming_key), b"x", "image/jpeg")
    storage.put_bytes(bucket, resources.clean_upload_key(item.upload_id), b"x", "image/png")
    assert upload_scan.give_up(bucket, item.incoming_key) == "rejected:scan_failed"
    assert keys() == set()
    assert scan(item) == "unchanged"
    assert upload_scan.give_up(bucket, item.incoming_key) == "unchanged"  # decided stays decided
