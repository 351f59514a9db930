"""No order of deleting, reporting and deciding lets a creator dodge the decision on an image
in review, or its strike: whatever the order, an image that reached the queue stays there until
a moderator decides, and a removal always counts its strike with its audit entry."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.adapters import ids
from chalicelib.models.audit import AuditEntry
from chalicelib.models.generations import IN_REVIEW, PUBLISHED, find
from chalicelib.models.users import UserProfile
from chalicelib.services import gallery, generation, lifecycle, moderation, reports, terms
from chalicelib.services.errors import ServiceError
from tests.security import figures
from tests.support.in_process_aws import aws, consented_profile, painted, scanned

STEPS = ("creator deletes", "report 1", "report 2", "report 3", "moderator removes")
ROW = "orders of delete, report and decision"


def _act(step: str, image_id: str, creator: str) -> None:
    if step == "creator deletes":
        gallery.delete_image(image_id, creator, False)
    elif step.startswith("report"):
        reports.file_report(f"reporter-{step[-1]}", image_id, "violent", None)
    else:
        moderation.decide("moderator", image_id, "remove", "violent", "violent")


@pytest.fixture(scope="module")
def world() -> Iterator[None]:
    """One AWS for every order tried: each order gets a creator and an image of its own."""
    with aws():
        terms.publish_terms("Terms for the strike test.")
        for who in ("moderator", "reporter-1", "reporter-2", "reporter-3"):
            consented_profile(who)
        yield


@settings(
    max_examples=int(os.environ.get("OBJEKTIFY_DODGE_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(order=st.permutations(STEPS))
def test_no_order_of_steps_dodges_a_decision_or_its_strike(world: None, order: list[str]) -> None:
    creator = consented_profile(f"creator-{ids.new_id()}")
    image_id = painted(creator)
    generation.record_inference_result({"inferenceId": image_id, "invocationStatus": "Completed"})
    assert scanned(image_id, "publish") == PUBLISHED
    reached_review = False
    for step in order:
        before = find(image_id)
        try:
            _act(step, image_id, creator)
        except ServiceError as refused:
            if step == "creator deletes":  # refused only while a decision is pending
                assert before is not None and lifecycle.awaits_decision(before), refused.code
        after = find(image_id)
        reached_review = reached_review or (after is not None and after.status == IN_REVIEW)
    if reached_review and find(image_id).status == IN_REVIEW:  # type: ignore[union-attr]
        moderation.decide("moderator", image_id, "remove", "late", "violent")
    strikes = int(UserProfile.get(creator).strikes or 0)
    audited = sum(1 for e in AuditEntry.scan() if e.target_id == image_id and e.action == "remove")
    assert strikes == audited
    if reached_review:
        assert strikes == 1, order  # the decision was made, and counted once
    figures.add(ROW, 1, 0)
