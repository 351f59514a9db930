"""Uploads: an image a user brings to start a generation from (`POST /uploads`).

The bytes never pass through the API: `start` writes the record (`pending`) and takes a unit of
the user's upload quota in one transaction, then answers an S3 presigned POST whose policy
fixes the object's key, its Content-Type and its size (1 byte to `max_upload_bytes`), valid
for `upload_post_seconds`. S3's ObjectCreated event of `incoming/<upload id>` runs the upload
scan (services/upload_scan.py), which makes the record `ready` (with a clean PNG) or
`rejected`.

An upload is its uploader's alone: any other caller, an unknown id and a malformed one read
the same 404. Moderators see it only through `moderator_view_url`, which writes an audit
entry. Unused uploads expire after `upload_retention_days` (the record by TTL, the clean
object by the bucket's lifecycle rule on its expiry tag); `mark_used` keeps them. Export lists
them (and holds the clean images); erasure deletes the records and every object.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib import resources
from chalicelib.adapters import clock, ids, storage
from chalicelib.adapters.aws import client
from chalicelib.models.base import lost_a_race, transaction
from chalicelib.models.uploads import READY, REJECTED, RIGHTS, Upload
from chalicelib.services import audit, quota
from chalicelib.services.errors import InvalidRequest, NotFound
from chalicelib.settings import get_settings

CONTENT_TYPES = ("image/png", "image/jpeg", "image/webp")
DEFAULT_CONTENT_TYPE = "image/png"
# A clean PNG is re-encoded from at most the scan's pixel limit: larger than what was posted.
MAX_CLEAN_BYTES = 200_000_000
QUOTA_PREFIX = "upload#"  # the quota slots' owner key: the user's, apart from generations'


@dataclass(frozen=True)
class Started:
    """A new upload and where its bytes go: POST `fields` and the file to `url`."""

    upload_id: str
    url: str
    fields: dict[str, str]
    expires_at: str  # when the presigned POST stops working


def quota_owner(user_id: str) -> str:
    return f"{QUOTA_PREFIX}{user_id}"


def _window() -> quota.Window:
    settings = get_settings()
    return quota.Window(
        settings.upload_limit, settings.upload_window_seconds, clock.epoch() * 1000, "uploads"
    )


def start(user_id: str, rights: str, content_type: str = DEFAULT_CONTENT_TYPE) -> Started:
    """Record a pending upload and sign the POST its bytes go with; 429 over the quota."""
    if rights not in RIGHTS:
        raise InvalidRequest("Some fields are not valid.", details={"rights": "own or licensed"})
    if content_type not in CONTENT_TYPES:
        raise InvalidRequest(
            "Some fields are not valid.", details={"content_type": ", ".join(CONTENT_TYPES)}
        )
    settings = get_settings()
    now = clock.now()
    upload_id = ids.new_id()
    expires_at = now + timedelta(days=settings.upload_retention_days)
    item = Upload(
        upload_id,
        owner_id=user_id,
        rights=rights,
        attested_at=now,
        content_type=content_type,
        created_at=now,
        expires_at=expires_at,
        ttl=expires_at,
        incoming_key=resources.upload_key(upload_id),
        used=False,
    )
    owner, window = quota_owner(user_id), _window()
    for attempt, slot in enumerate(quota.candidates(owner, window)):
        try:
            with transaction(token=f"{upload_id}-{attempt}") as tx:
                tx.save(item, condition=Upload.upload_id.does_not_exist())
                quota.claim(tx, owner, slot, window, upload_id)
            break
        except TransactWriteError as exc:
            if not lost_a_race(exc):
                raise
    post = presigned_post(item.incoming_key, content_type)
    return Started(upload_id, post["url"], post["fields"], post["expires_at"])


def presigned_post(key: str, content_type: str) -> dict[str, Any]:
    """S3's presigned POST for exactly one object: this key, this Content-Type, 1 byte to
    `max_upload_bytes`, for `upload_post_seconds`. AWS S3 enforces the policy; the upload scan
    checks the stored object's size and type again (the local emulator does not)."""
    settings = get_settings()
    seconds = settings.upload_post_seconds
    post = client("s3").generate_presigned_post(
        Bucket=settings.uploads_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", 1, settings.max_upload_bytes],
        ],
        ExpiresIn=seconds,
    )
    return {
        "url": str(post["url"]),
        "fields": {str(k): str(v) for k, v in post["fields"].items()},
        "expires_at": clock.iso(clock.from_epoch(clock.epoch() + seconds)),
    }


def owned(owner_id: str, upload_id: str) -> Upload:
    """The caller's own upload, whatever its state; NotFound for anyone else's or none."""
    if not ids.is_id(upload_id):
        raise NotFound()
    try:
        item = Upload.get(upload_id, consistent_read=True)
    except Upload.DoesNotExist as exc:
        raise NotFound() from exc
    if item.owner_id != owner_id:
        raise NotFound()
    return item


def owner_view(item: Upload) -> dict[str, Any]:
    """What GET /uploads/{id} shows: the state, and a rejection's category (never which list
    or label matched)."""
    view: dict[str, Any] = {"upload_id": item.upload_id, "status": item.status}
    if item.status == REJECTED and item.reason:
        view["reason"] = item.reason
    return view


def ready_upload_of(owner_id: str, upload_id: str) -> Upload:
    """The caller's own upload that passed the scan; NotFound otherwise (someone else's, a
    rejected, pending or unknown one)."""
    item = owned(owner_id, upload_id)
    if item.status != READY or not item.clean_key:
        raise NotFound()
    return item


def mark_used(upload: Upload) -> None:
    """A generation uses it: it no longer expires (the record's TTL and the clean object's
    expiry tag go). Safe to call again."""
    if not upload.used or upload.ttl is not None:
        upload.update(actions=[Upload.used.set(True), Upload.ttl.remove()])
    if upload.clean_key:
        s3 = client("s3")
        # Gone already (erased meanwhile): nothing is left to expire.
        with contextlib.suppress(s3.exceptions.NoSuchKey):
            s3.delete_object_tagging(Bucket=get_settings().uploads_bucket, Key=upload.clean_key)


def clean_bytes(upload: Upload) -> bytes:
    """The clean PNG the scan wrote (ready uploads only)."""
    if not upload.clean_key:
        raise NotFound()
    return storage.read(get_settings().uploads_bucket, upload.clean_key, MAX_CLEAN_BYTES)


def moderator_view_url(upload: Upload, moderator_id: str) -> str:
    """A short-lived URL of the upload's clean image (a rejected one's quarantined original)
    for a moderator, and the audit entry that records the view."""
    url, _, view = moderator_view(upload, moderator_id, "an image-to-image review")
    audit.record(view)
    return url


def moderator_view(upload: Upload, moderator_id: str, why: str) -> tuple[str, str, audit.Event]:
    """A URL of the upload's clean image (a rejected one's quarantined original) for at most
    15 minutes, when it expires, and the audit entry of the view for the caller to record
    (NotFound when there is no image to show)."""
    settings = get_settings()
    key = upload.clean_key
    if key is None and upload.status == REJECTED:
        key = resources.quarantine_key(upload.incoming_key)
    if key is None:
        raise NotFound()
    seconds = min(settings.review_url_seconds, 900)
    url = storage.presigned_get(settings.uploads_bucket, key, seconds=seconds)
    expires = clock.iso(clock.from_epoch(clock.epoch() + seconds))
    return url, expires, audit.Event(moderator_id, "view", "upload", upload.upload_id, why)


def find(upload_id: str) -> Upload | None:
    try:
        return Upload.get(upload_id, consistent_read=True)
    except Upload.DoesNotExist:
        return None


def of_owner(owner_id: str) -> list[Upload]:
    return list(Upload.owner_index.query(owner_id, scan_index_forward=True))


def exported(owner_id: str) -> list[dict[str, Any]]:
    """The user's uploads as their data export lists them."""

    def iso(moment: datetime | None) -> str | None:
        return clock.iso(moment) if moment is not None else None

    return [
        {
            "upload_id": u.upload_id,
            "status": u.status,
            "reason": u.reason,
            "rights": u.rights,
            "attested_at": iso(u.attested_at),
            "content_type": u.content_type,
            "created_at": iso(u.created_at),
            "expires_at": None if u.used else iso(u.expires_at),
            "used": bool(u.used),
            "image": f"uploads/{u.upload_id}.png" if u.status == READY and u.clean_key else None,
        }
        for u in of_owner(owner_id)
    ]


def erase_all(owner_id: str) -> None:
    """Erasure: every object of each upload (posted, clean, quarantined), then its record;
    then the upload quota's slots. Safe to run again."""
    bucket = get_settings().uploads_bucket
    for item in of_owner(owner_id):
        for key in resources.upload_keys(item.upload_id):
            storage.delete(bucket, key)
        item.delete()
    quota.release_all(quota_owner(owner_id))
