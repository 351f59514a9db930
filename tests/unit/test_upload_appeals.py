"""Appeals of upload rejections against in-process AWS: a reversal withdraws the strike (and the
automatic suspension it caused), makes the upload ready again from its evidence, allows the
falsely matched hash, and finishes when retried after a crash at any step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib import resources
from chalicelib.models.audit import AuditEntry
from chalicelib.models.statements import Statement
from chalicelib.models.users import ACTIVE, SUSPENDED, UserProfile
from chalicelib.services import appeals, erasure, statements, transparency, upload_scan
from chalicelib.settings import get_settings
from tests.support import in_process_aws
from tests.unit.test_upload_images import jpeg_with_gps
from tests.unit.test_upload_scan import OWNER, StandIn, keys, record, scan, uploaded

MODERATOR = "moderator-upload-appeals"


@pytest.fixture(autouse=True)
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    monkeypatch.setenv("OBJEKTIFY_STRIKE_LIMIT", "1")
    get_settings.cache_clear()
    chosen = StandIn()
    monkeypatch.setattr(upload_scan, "get_scanner", lambda name: chosen)
    with in_process_aws.aws():
        in_process_aws.consented_profile(OWNER)
        yield chosen
    get_settings.cache_clear()


def listed(tmp_path: Path, data: bytes) -> None:
    """The picture's PDQ hash on an imported list, as an operator's import leaves it."""
    from chalicelib import upload_images
    from chalicelib.provenance import fingerprints
    from chalicelib.services import hash_lists

    clean = upload_images.clean_png(upload_images.verify_upload(data, "image/jpeg"))
    path = tmp_path / "known.csv"
    path.write_text(f"pdq,quality\n{fingerprints.compute(clean.image).hex},100\n")
    hash_lists.import_list(path, "known-list", "illegal")


def profile() -> Any:
    return UserProfile.get(OWNER, consistent_read=True)


def rejection() -> Statement:
    [found] = [s for s in statements.every_about(OWNER) if s.decision == "content_removed"]
    return found


def rejected_by_list(tmp_path: Path) -> tuple[Any, Statement]:
    data = jpeg_with_gps()
    listed(tmp_path, data)
    item = uploaded(data, "image/jpeg")
    assert scan(item) == "rejected:illegal"
    assert profile().status == SUSPENDED and int(profile().strikes) == 1  # the limit is one
    made = rejection()
    appeals.file(OWNER, made.statement_id, "It is my own photograph of my garden.")
    return item, made


def test_the_statement_names_the_upload_for_its_owner_only(tmp_path: Path) -> None:
    item, made = rejected_by_list(tmp_path)
    assert made.upload_id == item.upload_id and made.image_id is None
    assert item.upload_id not in made.facts  # the facts go into the transparency database
    assert statements.shown(made).upload_id == item.upload_id
    assert item.upload_id not in repr(transparency.dsa_statement(made))
    erasure.anonymise_statements(OWNER)
    kept = Statement.get(made.statement_id, consistent_read=True)
    assert kept.upload_id is None and kept.image_id is None


def test_moderators_see_the_evidence_and_the_view_is_audited(tmp_path: Path) -> None:
    from chalicelib.adapters.aws import client

    item, made = rejected_by_list(tmp_path)
    [shown], _ = appeals.open_appeals(MODERATOR, 10, None)
    assert shown.id == made.statement_id and shown.image_url is None
    assert shown.upload_url and shown.upload_url_expires_at
    assert resources.quarantine_key(item.incoming_key) in shown.upload_url
    views = [e for e in AuditEntry.scan() if e.action == "view" and e.target_type == "upload"]
    assert [(e.actor, e.target_id) for e in views] == [(MODERATOR, item.upload_id)]
    # The evidence the URL names is the upload as it was posted.
    body = (
        client("s3")
        .get_object(
            Bucket=get_settings().uploads_bucket, Key=resources.quarantine_key(item.incoming_key)
        )["Body"]
        .read()
    )
    assert body == jpeg_with_gps()


def test_a_reversal_makes_the_upload_ready_and_allows_the_same_picture(tmp_path: Path) -> None:
    from chalicelib.adapters.aws import client

    item, made = rejected_by_list(tmp_path)
    outcome = appeals.decide(MODERATOR, made.statement_id, "reverse", "A garden, not on a list.")
    assert outcome.outcome == "reversed"
    done = record(item)
    assert (done.status, done.reason, done.clean_key) == (
        "ready",
        None,
        resources.clean_upload_key(item.upload_id),
    )
    assert keys() == {done.clean_key}  # the evidence went
    tags = client("s3").get_object_tagging(Bucket=get_settings().uploads_bucket, Key=done.clean_key)
    assert [(t["Key"], t["Value"]) for t in tags["TagSet"]] == [resources.UPLOAD_EXPIRY_TAG]
    assert profile().status == ACTIVE and int(profile().strikes) == 0
    kept = Statement.get(made.statement_id, consistent_read=True)
    assert kept.strike_withdrawn_at is not None and kept.appeal_outcome == "reversed"
    reversals = [e for e in AuditEntry.scan() if e.action == "reverse"]
    assert [(e.target_type, e.target_id) for e in reversals] == [("upload", item.upload_id)]
    # The same picture again: no longer refused for the match a person found false.
    again = uploaded(jpeg_with_gps(), "image/jpeg")
    assert scan(again) == "ready"


def test_a_scanner_rejection_reversed_allows_no_hash(world: StandIn) -> None:
    from chalicelib.models.blocked_hashes import BlockedHash

    world.found = (("Violence", 0.95),)
    item = uploaded(jpeg_with_gps(), "image/jpeg")
    assert scan(item) == "rejected:violent"
    made = rejection()
    appeals.file(OWNER, made.statement_id, "A film still.")
    appeals.decide(MODERATOR, made.statement_id, "reverse", "Fiction, allowed.")
    assert record(item).status == "ready" and int(profile().strikes) == 0
    assert list(BlockedHash.scan()) == []


@pytest.mark.parametrize("crash_in", ["withdraw_strike", "make_ready", "evidence"])
def test_a_reversal_retried_after_a_crash_finishes_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_in: str
) -> None:
    from chalicelib.services import enforcement

    item, made = rejected_by_list(tmp_path)

    class Crash(Exception):
        pass

    def after(module: Any, name: str) -> None:
        real = getattr(module, name)

        def crashing(*args: Any, **kwargs: Any) -> Any:
            real(*args, **kwargs)
            raise Crash(name)

        monkeypatch.setattr(module, name, crashing)

    if crash_in == "withdraw_strike":
        after(enforcement, "withdraw_strike")
    elif crash_in == "make_ready":
        after(upload_scan, "make_ready")
    else:  # after the record is ready, before the evidence goes
        real_delete = upload_scan._delete

        def crash_on_evidence(bucket: str, key: str) -> None:
            if key.startswith("quarantine/"):
                raise Crash("evidence")
            real_delete(bucket, key)

        monkeypatch.setattr(upload_scan, "_delete", crash_on_evidence)
    with pytest.raises(Crash):
        appeals.decide(MODERATOR, made.statement_id, "reverse", "A garden.")
    monkeypatch.undo()
    get_settings.cache_clear()
    appeals.decide(MODERATOR, made.statement_id, "reverse", "A garden.")
    assert record(item).status == "ready" and keys() == {record(item).clean_key}
    assert int(profile().strikes) == 0 and profile().status == ACTIVE
    reversals = [e for e in AuditEntry.scan() if e.action == "reverse"]
    assert len(reversals) == 1


def test_a_reversal_of_an_erased_upload_still_withdraws_the_strike(tmp_path: Path) -> None:
    item, made = rejected_by_list(tmp_path)
    record(item).delete()  # expired (TTL) or erased
    appeals.decide(MODERATOR, made.statement_id, "reverse", "A garden.")
    assert int(profile().strikes) == 0 and profile().status == ACTIVE
