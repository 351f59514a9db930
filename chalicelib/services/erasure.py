"""Erasure (`DELETE /me`): the user's personal data and content leave every table, bucket and
derivative, and the sign-in account goes too. What stays: an anonymous tombstone per consent
(version, hash, date; no user id), and for a day a marker keyed by a hash of the user id that
refuses the account's still-valid tokens.

Two parts. At once, in the request: the marker (so every token of the account is refused) and
the images' withdrawal from every public read path. Then, from the erasures queue, the rest, as
a list of steps that are each safe to run again: a crash part-way is finished by the retry.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Callable
from datetime import timedelta

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib import resources
from chalicelib.adapters import clock, storage, user_pool
from chalicelib.adapters.aws import client
from chalicelib.models.audit import AuditEntry
from chalicelib.models.base import refused_by_condition, transaction
from chalicelib.models.consents import ConsentEvidence, ConsentRecord, ConsentTombstone
from chalicelib.models.exports import Export
from chalicelib.models.generations import Generation
from chalicelib.models.reports import Report
from chalicelib.models.users import ERASED, UserProfile, erased_marker_key
from chalicelib.observability import logger
from chalicelib.services import (
    api_keys,
    audit,
    display_names,
    lifecycle,
    likes,
    live,
    quota,
    search,
    statements,
    uploads,
    webhooks,
)
from chalicelib.settings import get_settings

ERASED_ACTOR = "erased-user"


def request_erasure(user_id: str) -> None:
    """The part that happens at once; the queue finishes the rest."""
    now = clock.now()
    UserProfile(
        erased_marker_key(user_id),
        status=ERASED,
        strikes=0,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(seconds=get_settings().erased_marker_seconds),
    ).save()
    withdraw_images(user_id)
    client("sqs").send_message(
        QueueUrl=client("sqs").get_queue_url(QueueName=get_settings().erasures_queue)["QueueUrl"],
        MessageBody=json.dumps({"user_id": user_id}),
    )


def withdraw_images(user_id: str) -> None:
    """Every image of the user, whatever its state, leaves every read path and the queue."""
    for item in Generation.by_owner.query(user_id):
        lifecycle.erase(item.generation_id)


def delete_content(user_id: str) -> None:
    """Objects first, then the generation that names them, so a retry still finds them."""
    settings = get_settings()
    for item in Generation.by_owner.query(user_id):
        gid = item.generation_id
        for key in resources.public_keys(gid).values():
            storage.delete(settings.public_bucket, key)
        storage.delete(settings.inputs_bucket, item.input_key)
        storage.delete(settings.originals_bucket, item.output_key)
        storage.delete(settings.originals_bucket, resources.quarantine_key(item.output_key))
        storage.delete(settings.originals_bucket, resources.failure_key(gid))
        with Report.batch_write() as batch:
            for report in Report.query(gid):
                batch.delete(report)
        item.delete()


def delete_reports_filed(user_id: str) -> None:
    with Report.batch_write() as batch:
        for report in Report.by_reporter.query(user_id):
            batch.delete(report)


def tombstone_consents(user_id: str) -> None:
    """Each consent becomes an anonymous tombstone, in one transaction with its deletion."""
    for record in ConsentRecord.query(user_id):
        tombstone = ConsentTombstone(
            f"anonymous#{secrets.token_hex(16)}",
            f"v{int(record.terms_version)}",
            terms_version=record.terms_version,
            terms_sha256=record.terms_sha256,
            accepted_on=clock.iso(record.accepted_at)[:10],
        )
        try:
            with transaction() as tx:
                tx.save(tombstone)
                tx.delete(record, condition=ConsentRecord.consent_id.exists())
        except TransactWriteError as exc:
            if not refused_by_condition(exc):
                raise
            # already tombstoned by an earlier run
    with ConsentEvidence.batch_write() as batch:
        for evidence in ConsentEvidence.query(user_id):
            batch.delete(evidence)


def anonymise_audit(user_id: str) -> None:
    """Entries about or by the user keep what happened, not who (rewritten in place)."""
    searches = (
        (AuditEntry.by_target, "target_id", user_id),
        (AuditEntry.by_actor, "actor", user_id),
        # Views through a signed review link name the moderator who minted it.
        (AuditEntry.by_actor, "actor", audit.link_actor(user_id)),
    )
    for index, field, value in searches:
        for entry in index.query(value):
            setattr(entry, field, ERASED_ACTOR)
            entry.save()


def anonymise_statements(user_id: str) -> None:
    """Statements of reasons keep what was decided, on what ground and how (the transparency
    report counts them), not about whom: the user's id, the image or upload and the appeal's
    words go, and an open appeal leaves the moderators' list."""
    for statement in statements.every_about(user_id):
        statement.user_id = f"anonymous#{secrets.token_hex(16)}"
        statement.image_id = None
        statement.upload_id = None
        statement.appeal_explanation = None
        statement.appeal_queue = None
        statement.appealed_sk = None
        statement.save()


def delete_exports(user_id: str) -> None:
    settings = get_settings()
    for export in Export.query(user_id):
        if export.object_key:
            storage.delete(settings.exports_bucket, export.object_key)
        export.delete()


def delete_sign_in(user_id: str) -> None:
    """The Cognito user goes too (found by its `sub`, which is the user id)."""
    pool = get_settings().cognito_user_pool_id
    if pool:
        user_pool.delete_account(pool, user_id)


def delete_profile(user_id: str) -> None:
    with contextlib.suppress(DoesNotExist):
        UserProfile.get(user_id).delete()


STEPS: tuple[Callable[[str], None], ...] = (
    api_keys.remove_all,  # first: no script acts for the account while the rest goes
    withdraw_images,
    search.forget_images,  # before delete_content: it reads the prompts
    delete_content,
    uploads.erase_all,  # every upload's objects, then its record
    delete_reports_filed,
    tombstone_consents,
    anonymise_audit,
    anonymise_statements,
    delete_exports,
    delete_sign_in,
    quota.release_all,
    display_names.release,
    webhooks.remove_all,
    likes.forget_user,
    live.forget_user,
    delete_profile,
)


def finish_erasure(user_id: str) -> None:
    """Run every step; safe to run again after a crash at any point."""
    if len(user_id) > 128 or user_id.startswith("erased#"):
        raise ValueError("not a user id")
    for step in STEPS:
        step(user_id)
    logger.info("erasure finished", extra={"steps": len(STEPS)})
