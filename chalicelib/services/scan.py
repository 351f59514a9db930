"""The automated scan of a model output: from `queued`/`scanning` to a final state.

Verify the bytes are the image that was asked for, screen the prompt again (the policy may have
changed since submit), scan the pixels, decide; on publish, write the derivatives first and then
make the image public in one transaction, so a failure mid-way publishes nothing. Redelivery of
the same event finds the generation already final and changes nothing.
"""

from __future__ import annotations

from typing import Any

from chalicelib import imaging, resources
from chalicelib.adapters import clock, storage
from chalicelib.adapters.image_scanner import get_scanner
from chalicelib.models.generations import (
    IN_REVIEW,
    OPEN_STATES,
    REJECTED,
    Generation,
    ModelRef,
    find,
)
from chalicelib.observability import logger
from chalicelib.provenance import fingerprints
from chalicelib.services import hash_lists, lifecycle, publishing
from chalicelib.services.scan_policy import PUBLISH, REJECT, ScanDecision, decide
from chalicelib.settings import get_settings


def scan_output(bucket: str, key: str) -> str:
    settings = get_settings()
    generation_id = resources.generation_id_of(key) if bucket == settings.originals_bucket else None
    if generation_id is None:
        return "ignored"
    item = find(generation_id)
    if item is None:
        # Its generation was erased (or deleted with it) before the model finished: nothing
        # may be published from it, and nothing of an erased user may stay.
        storage.delete(bucket, key)
        return "ignored"
    if item.status not in OPEN_STATES:
        return "unchanged"
    data = storage.read(bucket, key, settings.max_output_bytes + 1)
    try:
        if len(data) > settings.max_output_bytes:
            raise imaging.InvalidImage("output too large")
        verified = imaging.verify(data, (int(item.width), int(item.height)))
    except imaging.InvalidImage as exc:
        logger.warning(
            "invalid model output", extra={"generation_id": generation_id, "reason": str(exc)}
        )
        _quarantine(bucket, key)
        lifecycle.fail(generation_id, "invalid_output")
        return "failed"
    if verified.model_name:
        item.model = ModelRef(  # type: ignore[no-untyped-call]
            name=verified.model_name, version=verified.model_version or ""
        )
    # Whatever the scan decides: a rejected or later removed image stays recognisable.
    fingerprint = fingerprints.record(
        generation_id, verified.image, verified.model_name, verified.model_version, item.created_at
    )
    decision, scan_record = _decide(item, verified)
    model_actions = [Generation.model.set(item.model)] if item.model is not None else []
    actions = [Generation.scan_result.set(scan_record), *model_actions]
    if decision.outcome == PUBLISH:
        made_from = "upload" if item.init_upload else None
        publishing.write_copies(verified, generation_id, item.remix_of, made_from)
        return lifecycle.publish(item, actions)
    if decision.outcome == REJECT:
        # Before the move: a redelivery finds the image still open and blocks it again.
        if fingerprint.usable:
            hash_lists.block_image(
                generation_id, fingerprint.hex, decision.category or lifecycle.UNSPECIFIED
            )
        rejected = lifecycle.reject(item, decision.category, actions, scan_record)
        return REJECTED if rejected else "unchanged"
    moved = lifecycle.hold_for_review(item, decision.category, actions)
    return IN_REVIEW if moved else "unchanged"


def _decide(
    item: Generation, verified: imaging.VerifiedImage
) -> tuple[ScanDecision, dict[str, Any]]:
    from chalicelib.services.prompt_policy import screen_prompt

    verdict = screen_prompt(item.prompt)  # as at submit: the negative prompt steers away
    scanner = get_scanner(get_settings().image_scanner)
    if not verdict.allowed:
        decision = ScanDecision(REJECT, verdict.category, "prompt", 1.0)
        labels: list[dict[str, Any]] = []
    else:
        found = scanner.scan(verified.image, b"")
        decision = decide(found)
        labels = [{"name": label.name, "score": round(label.score, 4)} for label in found]
    record = {
        "scanner": scanner.name,
        "outcome": decision.outcome,
        "category": decision.category,
        "label": decision.label,
        "score": round(decision.score, 4),
        "labels": labels,
        "scanned_at": clock.iso(clock.now()),
    }
    return decision, record


def _quarantine(bucket: str, key: str) -> None:
    """Keep the bad output for inspection where nothing serves or scans it."""
    from chalicelib.adapters.aws import client

    s3 = client("s3")
    s3.copy_object(
        Bucket=bucket, Key=resources.quarantine_key(key), CopySource={"Bucket": bucket, "Key": key}
    )
    s3.delete_object(Bucket=bucket, Key=key)
