"""Random sequences of everything that changes an image's life, run against the services over
moto's in-process AWS, with the lifecycle's rules checked after every step:

- an image is public (feed, creator page, detail, served copies) iff it is `published` and its
  creator is not banned;
- it is in the moderation queue iff it awaits a human (`in_review`, or published with reports),
  and every queued item can be decided;
- nothing deleted, erased or removed is reachable by any public read;
- work that reaches `published` never does so while its creator is restricted;
- every strike has its audit entry.
"""

from __future__ import annotations

import os
from contextlib import suppress
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

moto = pytest.importorskip("moto")

from chalicelib import resources  # noqa: E402
from chalicelib.models.audit import AuditEntry  # noqa: E402
from chalicelib.models.gallery import GalleryEntry  # noqa: E402
from chalicelib.models.generations import PUBLISHED, Generation  # noqa: E402
from chalicelib.models.users import ACTIVE, BANNED, UserProfile  # noqa: E402
from chalicelib.roles import MODERATORS  # noqa: E402
from chalicelib.services import (  # noqa: E402
    enforcement,
    erasure,
    gallery,
    generation,
    identity,
    moderation,
    reports,
    terms,
)
from chalicelib.services.errors import NotFound, ServiceError  # noqa: E402
from chalicelib.settings import get_settings  # noqa: E402
from tests.support.in_process_aws import (  # noqa: E402
    SCANNED,
    aws,
    consented_profile,
    painted,
    scanned,
)

STRIKE_ACTIONS = ("reject", "remove", "delete")


class ImageLife(RuleBasedStateMachine):
    creators = Bundle("creators")
    images = Bundle("images")

    def __init__(self) -> None:
        super().__init__()
        self.world = aws()
        self.world.__enter__()
        terms.publish_terms("The terms of this property test.")
        self.moderator = consented_profile("moderator")
        self.reporters = [consented_profile(f"reporter-{n}") for n in range(3)]
        self.erased: set[str] = set()
        self.published_while_restricted: list[str] = []

    @initialize(target=creators)
    def first_creators(self) -> Any:
        return multiple(consented_profile("creator-a"), consented_profile("creator-b"))

    @rule(target=creators)
    def new_creator(self) -> str:
        self.joined = getattr(self, "joined", 0) + 1
        return consented_profile(f"creator-{self.joined}")

    # Steps -------------------------------------------------------------------------------

    @rule(target=images, creator=creators, prompt=st.sampled_from(["a lighthouse", "a fox"]))
    def submit(self, creator: str, prompt: str) -> Any:
        try:
            return painted(creator, prompt)
        except ServiceError:
            return multiple()  # restricted or erased: refused before anything is written

    @rule(image=images)
    def model_result(self, image: str) -> None:
        generation.record_inference_result({"inferenceId": image, "invocationStatus": "Completed"})

    @rule(image=images, outcome=st.sampled_from(sorted(SCANNED)))
    def scan_outcome(self, image: str, outcome: str) -> None:
        before = Generation.get(image, consistent_read=True) if _exists(image) else None
        standing = _standing(before.owner_id) if before else ACTIVE

        scanned(image, outcome)
        after = _find(image)
        became_public = before is not None and before.status != PUBLISHED
        if became_public and after is not None and after.status == PUBLISHED and standing != ACTIVE:
            self.published_while_restricted.append(image)

    @rule(image=images, reporter=st.integers(0, 2))
    def report(self, image: str, reporter: int) -> None:
        with suppress(NotFound):
            reports.file_report(self.reporters[reporter], image, "violent", None)

    @rule(image=images, action=st.sampled_from(["approve", "remove"]))
    def decide(self, image: str, action: str) -> None:
        with suppress(ServiceError):  # 404 or 409: not in a state the decision applies to
            moderation.decide(self.moderator, image, action, "property test", None)

    @rule(image=images, by_moderator=st.booleans())
    def delete(self, image: str, by_moderator: bool) -> None:
        item = _find(image)
        if item is None:
            return
        caller = self.moderator if by_moderator else item.owner_id
        try:
            gallery.delete_image(image, caller, by_moderator)
        except ServiceError as refused:
            # Its creator only while it awaits a decision; a moderator only when there is no
            # decision to make (it is neither public nor in review).
            if by_moderator:
                assert refused.code == "conflict" and item.status not in ("published", "in_review")
            else:
                assert refused.code == "under_review", refused.code

    @rule(creator=creators, action=st.sampled_from(["suspend", "ban", "restore"]))
    def restrict(self, creator: str, action: str) -> None:
        if creator in self.erased:
            return
        moderator = identity.Caller(self.moderator, frozenset({MODERATORS}))
        enforcement.restrict(moderator, creator, action, "property test", None)

    @rule(creator=consumes(creators))
    def erase(self, creator: str) -> None:
        erasure.request_erasure(creator)
        erasure.finish_erasure(creator)
        self.erased.add(creator)

    def teardown(self) -> None:
        self.world.__exit__(None, None, None)

    # Rules -------------------------------------------------------------------------------

    @invariant()
    def public_iff_published_and_creator_not_banned(self) -> None:
        feed = _public_entries()
        for item in Generation.scan(consistent_read=True):
            should = item.status == PUBLISHED and _standing(item.owner_id) != BANNED
            assert (item.generation_id in feed) == should, (item.generation_id, item.status)
            assert _detail_shown(item.generation_id) == should, item.generation_id
            assert _copies_served(item.generation_id) == should, (item.generation_id, item.status)
        for image_id in feed:
            assert _exists(image_id), f"a feed entry of {image_id}, which is gone"

    @invariant()
    def queued_iff_awaiting_a_human(self) -> None:
        queued = {g.generation_id for g in Generation.review_queue.query(moderation_queue())}
        waiting = {
            g.generation_id
            for g in Generation.scan()
            if g.status == "in_review" or (g.status == PUBLISHED and int(g.report_count or 0))
        }
        assert queued == waiting

    @invariant()
    def nothing_published_while_its_creator_was_restricted(self) -> None:
        assert self.published_while_restricted == []

    @invariant()
    def every_strike_is_audited(self) -> None:
        audited: dict[str, int] = {}
        owners = {g.generation_id: g.owner_id for g in Generation.scan()}
        for entry in AuditEntry.scan():
            if entry.action in STRIKE_ACTIONS and entry.target_id in owners:
                owner = owners[entry.target_id]
                audited[owner] = audited.get(owner, 0) + 1
        for profile in UserProfile.scan():
            if profile.user_id.startswith("creator-"):
                assert int(profile.strikes or 0) == audited.get(profile.user_id, 0), profile.user_id


def moderation_queue() -> str:
    from chalicelib.services.lifecycle import QUEUE

    return QUEUE


def _exists(image_id: str) -> bool:
    return _find(image_id) is not None


def _find(image_id: str) -> Generation | None:
    from chalicelib.models.generations import find

    return find(image_id)


def _standing(user_id: str) -> str:
    return enforcement.standing(user_id).status


def _public_entries() -> set[str]:
    return {
        entry.image_id
        for entry in GalleryEntry.scan(consistent_read=True)
        if entry.pk.startswith(("feed#", "creator#"))  # not the rank, term or like items
    }


def _detail_shown(image_id: str) -> bool:
    try:
        gallery.published(image_id)
        return True
    except NotFound:
        return False


def _copies_served(image_id: str) -> bool:
    from chalicelib.adapters.aws import client

    bucket = get_settings().public_bucket
    listed = client("s3").list_objects_v2(
        Bucket=bucket, Prefix=f"{resources.PUBLIC_PREFIX}{image_id}/"
    )
    return bool(listed.get("KeyCount"))


@pytest.mark.filterwarnings("ignore")
def test_any_sequence_of_steps_keeps_the_lifecycle_rules() -> None:
    machine = settings(
        max_examples=int(os.environ.get("OBJEKTIFY_LIFECYCLE_EXAMPLES", "20")),
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )(ImageLife)
    machine.TestCase().runTest()
