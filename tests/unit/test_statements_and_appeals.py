"""Statements of reasons and appeals against the services over moto: the scan's automatic
rejection is explained as automated, an automatic suspension names the strike that caused it,
a reversal withdraws that strike and lifts the suspension, the window closes after six months,
and erasure keeps what was decided but not about whom."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from chalicelib.adapters import clock
from chalicelib.models.generations import PUBLISHED, REJECTED, find
from chalicelib.models.statements import Statement
from chalicelib.models.users import ACTIVE, SUSPENDED, UserProfile
from chalicelib.services import appeals, erasure, export_archive, statements
from chalicelib.services.errors import AppealWindowClosed, Conflict, ConflictOfInterest
from chalicelib.settings import get_settings
from tests.support.in_process_aws import aws, consented_profile, painted, scanned


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OBJEKTIFY_STRIKE_LIMIT", "1")
    get_settings.cache_clear()
    with aws():
        yield
    get_settings.cache_clear()


def about(user_id: str, decision: str) -> Statement:
    found = [s for s in statements.every_about(user_id) if s.decision == decision]
    assert len(found) == 1, [s.decision for s in statements.every_about(user_id)]
    return found[0]


def test_a_scan_rejection_is_explained_as_automated_and_its_reversal_undoes_it(world: None) -> None:
    alice = consented_profile("alice")
    image_id = painted(alice)
    assert scanned(image_id, "reject") == REJECTED

    rejection = about(alice, "content_removed")
    shown = statements.shown(rejection)
    assert shown.automated_detection and shown.automated_decision
    assert shown.category == "violent" and shown.image_id == image_id
    assert "Violence" in shown.facts and "0.95" not in shown.facts  # labels, not scores
    suspension = about(alice, "account_suspended")  # the strike limit is one here
    assert suspension.caused_by == rejection.statement_id and suspension.automated_decision
    assert UserProfile.get(alice).status == SUSPENDED

    appeals.file(alice, rejection.statement_id, "It is a lighthouse in a storm.")
    with pytest.raises(ConflictOfInterest):
        appeals.decide(alice, rejection.statement_id, "reverse", "mine")
    outcome = appeals.decide("moderator-1", rejection.statement_id, "reverse", "A lighthouse.")

    assert find(image_id).status == PUBLISHED  # type: ignore[union-attr]
    profile = UserProfile.get(alice)
    assert profile.status == ACTIVE and int(profile.strikes) == 0
    assert statements.find(outcome.statement_id).refers_to == rejection.statement_id  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        appeals.decide("moderator-2", rejection.statement_id, "uphold", "no")


def test_a_decision_older_than_six_months_cannot_be_appealed(
    world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = consented_profile("alice")
    assert scanned(painted(alice), "reject") == REJECTED
    rejection = about(alice, "content_removed")
    later = clock.now() + timedelta(days=get_settings().appeal_window_days, hours=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    with pytest.raises(AppealWindowClosed):
        appeals.file(alice, rejection.statement_id, "Too late?")


def test_the_export_holds_the_statements_and_erasure_anonymises_them(world: None) -> None:
    alice = consented_profile("alice")
    assert scanned(painted(alice), "reject") == REJECTED
    rejection = about(alice, "content_removed")
    appeals.file(alice, rejection.statement_id, "My words about my picture.")

    data, _ = export_archive.collect(alice)
    exported = {s["id"]: s for s in data["statements_of_reasons"]}
    assert exported[rejection.statement_id]["appeal"]["status"] == "open"
    assert all("decided_by" not in s for s in exported.values())

    erasure.anonymise_statements(alice)
    assert statements.every_about(alice) == []
    kept = Statement.get(rejection.statement_id)
    assert kept.decision == "content_removed" and kept.category == "violent"
    assert kept.user_id.startswith("anonymous#") and kept.image_id is None
    assert kept.appeal_explanation is None and kept.appeal_queue is None
