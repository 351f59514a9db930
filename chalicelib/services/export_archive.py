"""What a data export holds, and the zip it is written as.

The user's own data: their standing, consents, prompts and every generation's state and
parameters, the reports they filed, the decisions about them and their images, and the
originals of their *published* images, their uploads (the records, and the clean copies of
those that passed the scan). Not in it: the originals of images that were refused or
never shown (rejected, removed, in review, failed), the scanner's labels and scores (a guide to
passing the scan), and who moderated (a decision says "a moderator" or "automated"). See
docs/data-inventory.yaml (`export`).
"""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import zipfile
from typing import IO, Any, cast

from chalicelib.adapters import clock, storage
from chalicelib.models.audit import AuditEntry
from chalicelib.models.consents import ConsentEvidence, ConsentRecord
from chalicelib.models.generations import PUBLISHED, Generation
from chalicelib.models.reports import Report
from chalicelib.services import (
    accounts,
    api_keys,
    audit,
    generation,
    likes,
    quota,
    statements,
    uploads,
    webhooks,
)
from chalicelib.settings import get_settings

MAX_IMAGE_BYTES = 50_000_000
COPY_CHUNK_BYTES = 1024 * 1024
# Audit actions that decide about a user's account or content; views and review links are the
# moderators' own work, not decisions, and stay out.
DECISIONS = {
    "user": ("suspend", "ban", "restore"),
    "image": ("reject", "auto_review", "approve", "remove", "delete"),
}
AUTOMATED, MODERATOR = "automated", "a moderator"


def _json(data: Any) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True, default=str).encode()


def decision_view(entry: AuditEntry, image: Generation | None = None) -> dict[str, Any]:
    """One decision as its subject sees it: what, why, when, and by a person or the rules,
    never which person."""
    details: dict[str, Any] = (
        dict(entry.details.as_dict()) if entry.details is not None else {}  # type: ignore[no-untyped-call]
    )
    category = details.get("category")
    if category is None and image is not None and entry.action in ("reject", "remove", "delete"):
        category = image.category
    about = (
        {"type": "account"}
        if entry.target_type == "user"
        else {"type": entry.target_type, "id": entry.target_id}
    )
    view: dict[str, Any] = {
        "decision": entry.action,
        "about": about,
        "category": category,
        "reason": entry.reason,
        "decided_by": AUTOMATED if entry.actor == audit.POLICY_ACTOR else MODERATOR,
        "at": clock.iso(entry.at),
    }
    if details.get("until"):
        view["until"] = details["until"]
    return view


def _decisions(user_id: str, gens: list[Generation]) -> list[dict[str, Any]]:
    found = [
        decision_view(e)
        for e in AuditEntry.by_target.query(user_id)
        if e.target_type == "user" and e.action in DECISIONS["user"]
    ]
    for g in gens:
        found += [
            decision_view(e, g)
            for e in AuditEntry.by_target.query(g.generation_id)
            if e.target_type == "image" and e.action in DECISIONS["image"]
        ]
    return sorted(found, key=lambda d: str(d["at"]))


def collect(user_id: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Everything the export holds as plain data, and the (id, original's key) of each
    published image."""
    profile = accounts.load_profile(user_id, fresh=True, refuse_erased=False)
    evidence = {e.consent_id: e.address_hash for e in ConsentEvidence.query(user_id)}
    gens = list(Generation.by_owner.query(user_id, scan_index_forward=True))
    data = {
        "profile": None
        if profile is None
        else {
            "user_id": profile.user_id,
            "status": accounts.effective_status(profile),
            "strikes": int(profile.strikes or 0),
            "accepted_terms_version": profile.accepted_terms_version,
            "accepted_terms_sha256": profile.accepted_terms_sha256,
            "display_name": profile.display_name,
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
        "decisions": _decisions(user_id, gens),
        "statements_of_reasons": [
            dataclasses.asdict(statements.shown(s)) for s in statements.every_about(user_id)
        ],
        "webhook": webhooks.exported(user_id),
        "api_keys": api_keys.exported(user_id),
        "likes": [
            {"image_id": like.sk, "liked_at": clock.iso(like.liked_at)}
            for like in likes.of_user(user_id)
        ],
        # Pictures the user uploaded to start from; images/uploads/ holds the clean copies.
        "uploads": uploads.exported(user_id),
    }
    images = [(g.generation_id, g.output_key) for g in gens if g.status == PUBLISHED]
    return data, images


def write_archive(user_id: str, out: io.RawIOBase | IO[bytes]) -> None:
    """The export as a zip written into `out` as it is made (a stream need not seek): the JSON
    files, then the images, each read from S3 and copied through in chunks, one at a time."""
    data, images = collect(user_id)
    bucket = get_settings().originals_bucket
    # zipfile needs only write() (and no seek) of its file; typeshed asks for an IO.
    with zipfile.ZipFile(cast(IO[bytes], out), "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            "Everything Objektify holds about you, as of "
            f"{clock.iso(clock.now())}. One JSON file per kind of record; images/ holds the "
            "originals of your published images, images/uploads/ the pictures you uploaded "
            "(as the service keeps them: re-encoded, without metadata). decisions.json lists "
            "the decisions about your account and images, made by a moderator or "
            "automatically.\n",
        )
        for name, value in data.items():
            archive.writestr(f"{name}.json", _json(value))
        copies = [(bucket, key, f"images/{generation_id}.png") for generation_id, key in images]
        copies += [
            (get_settings().uploads_bucket, clean_key, f"images/{name}")
            for name, clean_key in _upload_images(data.get("uploads", []))
        ]
        for source_bucket, key, name in copies:
            try:
                with storage.reading(source_bucket, key, MAX_IMAGE_BYTES) as body:
                    # PNG is compressed already: stored as it is.
                    entry = zipfile.ZipInfo(name, _zip_time())
                    entry.compress_type = zipfile.ZIP_STORED
                    with archive.open(entry, "w") as target:
                        shutil.copyfileobj(body, target, COPY_CHUNK_BYTES)
            except FileNotFoundError:
                continue


def _upload_images(listed: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(name under images/, clean key) of each listed upload that has a clean image."""
    from chalicelib import resources

    return [
        (str(u["image"]), resources.clean_upload_key(str(u["upload_id"])))
        for u in listed
        if u.get("image")
    ]


def _zip_time() -> tuple[int, int, int, int, int, int]:
    now = clock.now()
    return (now.year, now.month, now.day, now.hour, now.minute, now.second)
