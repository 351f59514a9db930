"""`POST /me/export`: an archive of the caller's data, built off the request.

One export per user at a time: asking again while one is in progress answers that one's id
(202, as the first answer did) and starts nothing. An export not finished within
`export_pending_seconds` (a job that failed for good) no longer holds the place. The archive
(what it holds: `export_archive`) is streamed into S3 a part at a time, so a large history
needs neither the memory nor the disk of the whole zip.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import resources
from chalicelib.adapters import clock, ids, storage
from chalicelib.adapters.aws import client
from chalicelib.models.base import refused_by_condition, transaction
from chalicelib.models.exports import IN_PROGRESS_KEY, PENDING, READY, Export, PendingExport
from chalicelib.observability import logger
from chalicelib.services import export_archive
from chalicelib.services.errors import NotFound, Unavailable
from chalicelib.settings import get_settings

# Attempts to take the user's place when another request takes or frees it at the same moment.
START_ATTEMPTS = 3


def request_export(user_id: str) -> str:
    """The id of the user's export in progress: the one already pending, or a new one."""
    for _ in range(START_ATTEMPTS):
        started = _start(user_id)
        if started is not None:
            return started
        pending = pending_export(user_id)
        if pending is not None:
            return pending
    raise Unavailable("Your export is being started; ask again in a moment.", retry_after=1)


def pending_export(user_id: str) -> str | None:
    """The id of the user's export in progress, if one holds the place and is not stale."""
    try:
        place = PendingExport.get(user_id, IN_PROGRESS_KEY, consistent_read=True)
    except DoesNotExist:
        return None
    return str(place.current) if place.stale_at > clock.now() else None


def _start(user_id: str) -> str | None:
    """A new pending export and the user's place taken for it, in one transaction, then the
    message that starts the work; None when another export holds the place."""
    settings = get_settings()
    now = clock.now()
    export_id = ids.new_id()
    stale_at = now + timedelta(seconds=settings.export_pending_seconds)
    place = PendingExport(user_id, current=export_id, stale_at=stale_at, expires_at=stale_at)
    export = Export(
        user_id,
        export_id,
        status=PENDING,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=settings.export_retention_days),
    )
    try:
        with transaction() as tx:
            tx.save(
                place,
                condition=PendingExport.user_id.does_not_exist() | (PendingExport.stale_at < now),
            )
            tx.save(export)
    except TransactWriteError as exc:
        if tx.refused(exc, place):
            return None
        raise
    try:
        sqs = client("sqs")
        sqs.send_message(
            QueueUrl=sqs.get_queue_url(QueueName=settings.exports_queue)["QueueUrl"],
            MessageBody=json.dumps({"user_id": user_id, "export_id": export_id}),
        )
    except Exception:
        _withdraw(place, export)
        raise
    return export_id


def _withdraw(place: PendingExport, export: Export) -> None:
    """Nothing will build an export whose message was not sent: it goes, and frees the place,
    so asking again starts one. Should that fail too, the place is free once stale."""
    try:
        with transaction() as tx:
            tx.delete(place, condition=PendingExport.current == export.export_id)
            tx.delete(export)
    except Exception:
        logger.exception("an unstarted export was not withdrawn", extra={"id": export.export_id})


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
    with storage.ObjectWriter(get_settings().exports_bucket, key, "application/zip") as out:
        export_archive.write_archive(user_id, out)
    return READY if _finish(export, key) else "unchanged"


def _finish(export: Export, key: str) -> bool:
    """`ready`, and the user's place freed, in one transaction. An export whose place another
    has taken since (it went stale), or that had none, is made ready all the same."""
    ready: list[Action] = [
        Export.status.set(READY),
        Export.object_key.set(key),
        Export.updated_at.set(clock.now()),
    ]
    place = PendingExport(export.user_id)
    try:
        with transaction() as tx:
            tx.update(export, actions=ready, condition=Export.status == PENDING)
            tx.delete(place, condition=PendingExport.current == export.export_id)
        return True
    except TransactWriteError as exc:
        if tx.refused(exc, export):
            return False
        if not tx.refused(exc, place):
            raise
    try:
        export.update(actions=ready, condition=Export.status == PENDING)
    except UpdateError as exc:
        if refused_by_condition(exc):
            return False
        raise
    return True
