"""`POST /me/export`: an archive of the caller's data (what it holds: `export_archive`), built
off the request."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import resources
from chalicelib.adapters import clock, ids, storage
from chalicelib.adapters.aws import client
from chalicelib.models.base import refused_by_condition
from chalicelib.models.exports import PENDING, READY, Export
from chalicelib.services import export_archive
from chalicelib.services.errors import NotFound
from chalicelib.settings import get_settings


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


def run_export(user_id: str, export_id: str) -> str:
    """Build and store one export; a redelivered request for a finished one changes nothing."""
    try:
        export = Export.get(user_id, export_id, consistent_read=True)
    except DoesNotExist:
        return "unknown"
    if export.status != PENDING:
        return "unchanged"
    key = f"{resources.EXPORT_PREFIX}{user_id}/{export_id}.zip"
    archive = io.BytesIO()
    export_archive.write_archive(user_id, archive)
    storage.put_bytes(get_settings().exports_bucket, key, archive.getvalue(), "application/zip")
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
