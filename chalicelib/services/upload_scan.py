"""The upload scan: an uploaded image from `pending` to `ready` or `rejected`.

S3's ObjectCreated event for `incoming/<upload id>` (through the upload scan queue) runs it:
1. the record is claimed (`pending` → `scanning`, a conditional write); a record already
   `ready` or `rejected` is left alone, so a redelivered event changes nothing;
2. the stored object's size and Content-Type (HEAD) must be what the presigned POST allowed
   and fixed: AWS S3 enforces the POST policy, the local emulator does not, so it is checked
   here again;
3. the bytes must be a clean image of the declared type (`chalicelib/upload_images.py`: the
   output scan's pixel limit and bomb guard, no polyglots), re-encoded to a PNG without any
   metadata;
4. the clean image's PDQ hash (as provenance fingerprints compute it) is looked up in the
   blocked hash lists (`hash_lists.find_match`), then the image scanner (NudeNet locally,
   Rekognition in AWS) is asked, with the outputs' label policy;
5. ready: the clean PNG is written to `clean/<upload id>.png`, the record becomes `ready` with
   its clean key and fingerprint, then the original is deleted (`make_ready`, which a reversed
   rejection uses too).

A file that is no valid image is `rejected` with the reason `invalid_file`, without a strike,
statement or quarantine (nothing was decided about its content; it is deleted). A scan that
fails on the queue's last delivery (`give_up`: the scanner down, say) is `rejected` with the
reason `scan_failed` the same way, so its owner is not left waiting on `scanning` and may
upload the picture again. A hash match
or the scanner's reject band rejects with the category, a strike, a statement of reasons and an
audit entry, in one transaction, and keeps the original in quarantine (`quarantine/incoming/<id>`,
never served) as evidence. The scanner's review band rejects too (an upload has no human review
of its own; the output made from it would be reviewed, but the upload would already have been
kept), with a statement and no strike. The owner sees the category only: never which list, or
which label, matched; the audit entry names them for moderators.

An appeal that reverses a rejection (`appeals._undo`) withdraws the strike it counted (and the
automatic suspension that strike caused), then `reinstate` makes the upload `ready` from the
evidence; a hash-list match is recorded as allowed (`hash_lists.allow`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib import resources
from chalicelib.adapters import storage
from chalicelib.adapters.aws import client
from chalicelib.adapters.image_scanner import get_scanner
from chalicelib.models.audit import AuditEntry
from chalicelib.models.base import refused_by_condition, transaction
from chalicelib.models.statements import Statement
from chalicelib.models.uploads import PENDING, READY, REJECTED, SCANNING, Upload
from chalicelib.models.users import UserProfile
from chalicelib.observability import logger
from chalicelib.services import audit, report_days, statements
from chalicelib.services.scan_policy import PUBLISH, REJECT, decide
from chalicelib.settings import get_settings

if TYPE_CHECKING:  # Pillow is imported where an image is decoded
    from chalicelib.upload_images import CleanImage

INVALID = "invalid_file"
SCAN_FAILED = "scan_failed"
HASH_LIST_FACTS = "The image matched a list of images that may not be uploaded."
# The uploads bucket's lifecycle rule expires the clean copy by this tag, unless a generation
# uses the upload (which removes it).
CLEAN_TAGGING = "=".join(resources.UPLOAD_EXPIRY_TAG)


def scan_upload(bucket: str, key: str) -> str:
    """The outcome: "ready", "rejected:<category>", "unchanged" (already decided, or decided by
    another delivery meanwhile) or "ignored" (no upload of ours)."""
    settings = get_settings()
    upload_id = resources.upload_id_of(key) if bucket == settings.uploads_bucket else None
    if upload_id is None:
        return "ignored"
    item = _find(upload_id)
    if item is None or item.incoming_key != key:
        # Erased (or never recorded): nothing of it may stay.
        _delete(bucket, key)
        return "ignored"
    if item.status in (READY, REJECTED):
        _delete(bucket, key)  # a crash after the decision may have left it
        return "unchanged"
    if not _claim(item):
        return "unchanged"
    s3 = client("s3")
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
        return "unchanged"  # another delivery decided and deleted it meanwhile
    size, stored_type = int(head.get("ContentLength", 0)), head.get("ContentType")
    if size > settings.max_upload_bytes:
        return _invalid(item, bucket, key, f"{size} bytes")
    if stored_type != item.content_type:
        return _invalid(item, bucket, key, f"stored as {stored_type!r}")
    from chalicelib import upload_images  # Pillow: only this function needs it
    from chalicelib.imaging import InvalidImage

    try:
        data = storage.read(bucket, key, settings.max_upload_bytes)
        clean = upload_images.clean_png(upload_images.verify_upload(data, item.content_type))
    except (InvalidImage, ValueError) as exc:
        return _invalid(item, bucket, key, str(exc))
    return _decide(item, bucket, key, clean)


def _decide(item: Upload, bucket: str, key: str, clean: CleanImage) -> str:
    from chalicelib.provenance import fingerprints
    from chalicelib.services import hash_lists

    settings = get_settings()
    fingerprint = fingerprints.compute(clean.image)
    match = hash_lists.find_match(fingerprint.hex) if fingerprint.usable else None
    if match is not None:
        details: dict[str, Any] = {
            "check": "hash_list",
            "list": match.source,
            "category": match.category,
        }
        return _reject(item, bucket, key, match.category, HASH_LIST_FACTS, details, fingerprint.hex)
    scanner = get_scanner(settings.image_scanner)
    labels = scanner.scan(clean.image, clean.png)
    decision = decide(labels)
    if decision.outcome != PUBLISH:
        category = decision.category or "unspecified"
        names = ", ".join(label.name for label in labels[:5]) or "no labels"
        facts = f"The automated image scan ({scanner.name}) found: {names}."
        details = {
            "check": "scanner",
            "scanner": scanner.name,
            "label": decision.label,
            "score": round(decision.score, 4),
            "category": category,
        }
        strike = decision.outcome == REJECT
        return _reject(item, bucket, key, category, facts, details, fingerprint.hex, strike)
    if not make_ready(item, bucket, clean.png, fingerprint.hex, was=SCANNING):
        return "unchanged"
    _delete(bucket, key)
    return READY


def make_ready(item: Upload, bucket: str, png: bytes, fingerprint: str, was: str) -> bool:
    """Write the clean copy (`clean/<id>.png`, with the expiry tag), then make the record
    `ready` with it, if the record is still `was` (`scanning` for the scan, `rejected` for a
    reversed rejection). False when it is not: the clean copy is taken away again unless the
    record is (now) ready, e.g. made so by another delivery or a retried reversal, which wrote
    the same copy."""
    clean_key = resources.clean_upload_key(item.upload_id)
    storage.put_bytes(bucket, clean_key, png, "image/png", Tagging=CLEAN_TAGGING)
    try:
        item.update(
            actions=[
                Upload.status.set(READY),
                Upload.clean_key.set(clean_key),
                Upload.fingerprint.set(fingerprint),
                Upload.reason.remove(),
            ],
            condition=Upload.status == was,
        )
    except UpdateError as exc:
        if not refused_by_condition(exc):
            raise
        now = _find(item.upload_id)
        if now is None or now.status != READY:
            _delete(bucket, clean_key)  # erased, or decided otherwise meanwhile
        return False
    return True


def reinstate(upload_id: str, statement: Statement) -> str:
    """An appeal reversed the rejection (`statement`) of the upload: it becomes `ready` from
    its quarantined evidence, cleaned again as the scan cleans (verify_upload + clean_png),
    then the evidence goes. A hash-list match is first recorded as allowed
    (`hash_lists.allow`), so the same picture is not refused for it again. Every step is safe
    to repeat: a retry after a crash anywhere finishes. The outcome: "ready", "gone" (erased
    or expired: nothing to restore) or "unchanged" (already ready)."""
    from chalicelib import upload_images  # Pillow: only this function needs it
    from chalicelib.provenance import fingerprints
    from chalicelib.services import hash_lists

    settings = get_settings()
    bucket = settings.uploads_bucket
    item = _find(upload_id)
    if item is None:
        return "gone"
    evidence = resources.quarantine_key(item.incoming_key)
    if item.status == READY:
        _delete(bucket, evidence)  # a crash after the write may have left it
        return "unchanged"
    if item.status != REJECTED:
        return "unchanged"
    try:
        data = storage.read(bucket, evidence, settings.max_upload_bytes)
    except client("s3").exceptions.NoSuchKey:
        # Erased meanwhile (erasure deletes the objects, then the record).
        logger.warning("no evidence to reinstate", extra={"upload_id": upload_id})
        return "gone"
    clean = upload_images.clean_png(upload_images.verify_upload(data, item.content_type))
    fingerprint = fingerprints.compute(clean.image)
    if fingerprint.usable and statement.facts.startswith(HASH_LIST_FACTS):
        hash_lists.allow(fingerprint.hex)
    if not make_ready(item, bucket, clean.png, fingerprint.hex, was=REJECTED):
        now = _find(upload_id)
        if now is None:
            return "gone"
        if now.status != READY:
            raise RuntimeError(f"upload {upload_id} changed while it was reinstated")
    _delete(bucket, evidence)
    logger.info("upload reinstated", extra={"upload_id": upload_id})
    return READY


def _find(upload_id: str) -> Upload | None:
    try:
        return Upload.get(upload_id, consistent_read=True)
    except Upload.DoesNotExist:
        return None


def _claim(item: Upload) -> bool:
    try:
        item.update(
            actions=[Upload.status.set(SCANNING)],
            condition=Upload.status.is_in(PENDING, SCANNING),
        )
    except UpdateError as exc:
        if refused_by_condition(exc):
            return False
        raise
    return True


def _invalid(item: Upload, bucket: str, key: str, why: str) -> str:
    """Not an image we accept: refused and deleted, without a strike."""
    logger.warning("invalid upload", extra={"upload_id": item.upload_id, "reason": why})
    if not _refuse_unjudged(item, INVALID, was=(SCANNING,)):
        return "unchanged"
    _delete(bucket, key)
    return f"{REJECTED}:{INVALID}"


def give_up(bucket: str, key: str) -> str:
    """The scan of `key` failed on the queue's last delivery: the upload, if still undecided,
    is refused as `scan_failed` (nothing was decided about its content: no strike, statement or
    evidence), and the original goes with anything a failed try left (the clean copy, an
    evidence copy no decision names). The outcome, as `scan_upload`'s."""
    upload_id = resources.upload_id_of(key) if bucket == get_settings().uploads_bucket else None
    item = _find(upload_id) if upload_id is not None else None
    if item is None or item.incoming_key != key:
        return "ignored"
    if not _refuse_unjudged(item, SCAN_FAILED, was=(PENDING, SCANNING)):
        return "unchanged"
    for leftover in resources.upload_keys(item.upload_id):
        _delete(bucket, leftover)
    logger.error("upload scan given up", extra={"upload_id": item.upload_id})
    return f"{REJECTED}:{SCAN_FAILED}"


def _refuse_unjudged(item: Upload, reason: str, was: tuple[str, ...]) -> bool:
    """`rejected` with `reason`, if the record is still in one of `was`; False if it is not."""
    try:
        item.update(
            actions=[Upload.status.set(REJECTED), Upload.reason.set(reason)],
            condition=Upload.status.is_in(*was),
        )
    except UpdateError as exc:
        if not refused_by_condition(exc):
            raise
        return False
    return True


def _reject(
    item: Upload,
    bucket: str,
    key: str,
    category: str,
    facts: str,
    details: dict[str, Any],
    fingerprint: str,
    strike: bool = True,
) -> str:
    """Refused for its content: evidence kept, and the decision, its statement, its audit
    entry and (`strike`) the owner's strike written in one transaction."""
    s3 = client("s3")
    evidence = resources.quarantine_key(key)
    s3.copy_object(Bucket=bucket, Key=evidence, CopySource={"Bucket": bucket, "Key": key})
    explanation = f"The automated check found the uploaded image to be {category}."
    statement = statements.about_upload(
        item.owner_id,
        item.upload_id,
        decided_by=audit.POLICY_ACTOR,
        category=category,
        explanation=explanation,
        facts=facts,
        strike=strike,
    )
    event = audit.Event(
        audit.POLICY_ACTOR,
        "reject",
        "upload",
        item.upload_id,
        f"automated upload scan ({category})",
        {**details, "evidence": evidence, "decision": statement.statement_id, "strike": strike},
    )
    try:
        with transaction() as tx:
            tx.update(
                item,
                actions=[
                    Upload.status.set(REJECTED),
                    Upload.reason.set(category),
                    Upload.fingerprint.set(fingerprint),
                ],
                condition=Upload.status == SCANNING,
            )
            if strike:
                tx.update(
                    UserProfile(item.owner_id),
                    actions=[UserProfile.strikes.add(1)],
                    condition=UserProfile.user_id.exists(),
                )
            tx.save(audit.entry(event), condition=AuditEntry.sk.does_not_exist())
            tx.save(statement, condition=Statement.statement_id.does_not_exist())
            report_days.statement_made(tx, statement)
    except TransactWriteError as exc:
        if not refused_by_condition(exc):
            raise
        # Decided by another delivery (the evidence is the same object), or erased meanwhile:
        # then nothing of it may stay.
        if not tx.refused(exc, item) or _find(item.upload_id) is None:
            _delete(bucket, evidence)
        return "unchanged"
    _delete(bucket, key)
    logger.info("upload rejected", extra={"upload_id": item.upload_id, "category": category})
    if strike:
        from chalicelib.services.enforcement import apply_strike_policy

        apply_strike_policy(item.owner_id, f"rejected upload ({category})", statement.statement_id)
    return f"{REJECTED}:{category}"


def _delete(bucket: str, key: str) -> None:
    client("s3").delete_object(Bucket=bucket, Key=key)  # no error when it is already gone
