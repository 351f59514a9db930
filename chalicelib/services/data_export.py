"""`POST /me/export`: an archive of everything held about the caller, built off the request."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import resources
from chalicelib.adapters import clock, ids, storage
from chalicelib.adapters.aws import client
from chalicelib.models.audit import AuditEntry
from chalicelib.models.base import refused_by_condition
from chalicelib.models.consents import ConsentEvidence, ConsentRecord
from chalicelib.models.exports import PENDING, READY, Export
from chalicelib.models.generations import Generation
from chalicelib.models.reports import Report
from chalicelib.services import accounts, audit, generation, quota
from chalicelib.services.errors import NotFound
from chalicelib.settings import get_settings

MAX_IMAGE_BYTES = 50_000_000


def request_export(user_id: str) -> str:
    settings = get_settings()
    now = clock.now()
    export_id = ids.new_id()
    Export(
        user_id,
        export_id,
        status=PENDING,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=settings.export_retention_days),
    ).save()
    sqs = client("sqs")
    sqs.send_message(
        QueueUrl=sqs.get_queue_url(QueueName=settings.exports_queue)["QueueUrl"],
        MessageBody=json.dumps({"user_id": user_id, "export_id": export_id}),
    )
    return export_id


def export_status(user_id: str, export_id: str) -> dict[str, Any]:
    if not ids.is_id(export_id):
        raise NotFound()
    try:
        export = Export.get(user_id, export_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound() from exc
    answer: dict[str, Any] = {
        "export_id": export_id,
        "status": export.status,
        "created_at": clock.iso(export.created_at),
    }
    if export.status == READY and export.object_key:
        name = f"objektify-export-{export_id}.zip"
        answer["url"] = storage.presigned_get(
            get_settings().exports_bucket,
            export.object_key,
            seconds=600,
            extra={"ResponseContentDisposition": f'attachment; filename="{name}"'},
        )
    return answer


def _json(data: Any) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True, default=str).encode()


def collect(user_id: str) -> dict[str, Any]:
    """Everything held about the user, as plain data."""
    profile = accounts.load_profile(user_id, fresh=True, refuse_erased=False)
    evidence = {e.consent_id: e.address_hash for e in ConsentEvidence.query(user_id)}
    gens = list(Generation.by_owner.query(user_id, scan_index_forward=True))
    return {
        "profile": None
        if profile is None
        else {
            "user_id": profile.user_id,
            "status": accounts.effective_status(profile),
            "strikes": int(profile.strikes or 0),
            "accepted_terms_version": profile.accepted_terms_version,
            "accepted_terms_sha256": profile.accepted_terms_sha256,
            "suspended_until": profile.suspended_until,
            "restriction_reason": profile.restriction_reason,
            "created_at": profile.created_at,
        },
        "recent_generation_times_ms": sorted(quota.slots_in_use(user_id).values()),
        "consents": [
            {
                "terms_version": int(c.terms_version),
                "terms_sha256": c.terms_sha256,
                "accepted_at": clock.iso(c.accepted_at),
                "user_agent_family": c.user_agent_family,
                "address_hash": evidence.get(c.consent_id),
            }
            for c in ConsentRecord.query(user_id)
        ],
        "generations": [
            {
                **dataclasses.asdict(generation.owner_view(g)),
                "scan": g.scan_result.as_dict() if g.scan_result else None,  # type: ignore[no-untyped-call]
                "report_count": int(g.report_count or 0),
            }
            for g in gens
        ],
        "reports_filed": [
            {
                "image_id": r.image_id,
                "reason": r.reason,
                "note": r.note,
                "created_at": clock.iso(r.created_at),
            }
            for r in Report.by_reporter.query(user_id)
        ],
        "restrictions_and_moderation": [audit.view(e) for e in AuditEntry.by_target.query(user_id)],
        "_images": [(g.generation_id, g.output_key) for g in gens],
    }


def build_archive(user_id: str) -> bytes:
    data = collect(user_id)
    images = data.pop("_images")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            "Everything Objektify holds about you, as of "
            f"{clock.iso(clock.now())}. One JSON file per kind of record; "
            "images/ holds the originals of your generations.\n",
        )
        for name, value in data.items():
            archive.writestr(f"{name}.json", _json(value))
        bucket = get_settings().originals_bucket
        for generation_id, key in images:
            try:
                archive.writestr(
                    f"images/{generation_id}.png", storage.read(bucket, key, MAX_IMAGE_BYTES)
                )
            except client("s3").exceptions.NoSuchKey:
                continue  # failed generations have no image
    return out.getvalue()


def run_export(user_id: str, export_id: str) -> str:
    """Build and store one export; a redelivered request for a finished one changes nothing."""
    try:
        export = Export.get(user_id, export_id, consistent_read=True)
    except DoesNotExist:
        return "unknown"
    if export.status != PENDING:
        return "unchanged"
    key = f"{resources.EXPORT_PREFIX}{user_id}/{export_id}.zip"
    storage.put_bytes(get_settings().exports_bucket, key, build_archive(user_id), "application/zip")
    try:
        export.update(
            actions=[
                Export.status.set(READY),
                Export.object_key.set(key),
                Export.updated_at.set(clock.now()),
            ],
            condition=Export.status == PENDING,
        )
    except UpdateError as exc:
        if not refused_by_condition(exc):
            raise
        return "unchanged"
    return READY
