"""One lifecycle for an image: every state a generation can be in and every move between them.

`TRANSITIONS` is the table: each row a named move, the states it may start from, the state it
ends in, and what changes with it. Each move is one function below, and nothing else in the
service writes a generation's status. A move is one DynamoDB transaction whose condition is
the state it starts from, so a duplicate, late or racing event never moves an image twice; what
the transaction cannot hold (objects in S3) is done so that a retry converges: served copies are
written before the transaction that points at them and deleted after the one that stops
pointing at them, and a move found already made does its after-work again.

The rules the moves keep, and the property test (tests/unit/test_lifecycle_machine.py) checks:
- public (the feed, the creator's page, the detail, the download, the served copies) iff
  `published`, not withheld, and the creator not banned;
- in the moderation queue iff `in_review`;
- a move to `published` happens only while the creator is in good standing (a condition on the
  profile in the same transaction): work of a creator restricted while it was queued ends
  `failed` with `account_restricted`, and a later restore does not publish it;
- a ban withholds the creator's published images from every public read; a restore puts them
  back; a suspension only stops new work;
- every strike is written with its audit entry (scan rejections with the scan's record), in
  the same transaction as the move that earned it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.adapters import clock
from chalicelib.models.audit import AuditEntry
from chalicelib.models.base import refused_by_condition, transaction
from chalicelib.models.generations import (
    FAILED,
    IN_REVIEW,
    OPEN_STATES,
    PUBLISHED,
    QUEUED,
    REJECTED,
    REMOVED,
    SCANNING,
    Generation,
    find,
)
from chalicelib.models.statements import Statement
from chalicelib.models.users import BANNED, UserProfile
from chalicelib.observability import logger
from chalicelib.services import (
    accounts,
    audit,
    display_names,
    hash_lists,  # uploads near a removed or rejected image are refused (issue 20)
    publishing,
    report_days,
    search,  # discovery's prompt index (issue 19)
    statements,
)
from chalicelib.services.errors import Conflict, UnderReview
from chalicelib.settings import get_settings

QUEUE = "queue"
SEVERITY = {"illegal": 0, "sexual": 1, "hateful": 2, "violent": 3}
REPORTED_RANK = 4
# What `category` says of an image its creator deleted or erased: never published again.
DELETED, ERASED = "deleted", "erased"
ERASED_OR_DELETED = (DELETED, ERASED)
UNSPECIFIED = "unspecified"  # a scan rejection without a category
ANY_STATE = (QUEUED, SCANNING, PUBLISHED, IN_REVIEW, REJECTED, FAILED, REMOVED)


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    effects: str  # what changes with the state, as the table in docs/lifecycle.md says it
    # Public afterwards: feed and creator-page entries written, the creator's standing checked.
    makes_public: bool = False
    # Public before and after, entries untouched (a published image only leaves the queue).
    stays_public: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition("start", (QUEUED,), QUEUED, "the model took it: no longer pending; queued deadline"),
    Transition("claim_restart", (QUEUED,), QUEUED, "the sweeper's next start of a pending one"),
    Transition("output_ready", (QUEUED,), SCANNING, "scanning deadline"),
    Transition("fail", OPEN_STATES, FAILED, "leaves the sweeper; a user-safe reason"),
    Transition(
        "publish",
        OPEN_STATES,
        PUBLISHED,
        "served copies first; feed and creator-page entries; only while the creator is in "
        "good standing (else `fail` with account_restricted)",
        makes_public=True,
    ),
    Transition("hold_for_review", OPEN_STATES, IN_REVIEW, "leaves the sweeper; joins the queue"),
    Transition(
        "reject",
        OPEN_STATES,
        REJECTED,
        "leaves the sweeper; a strike with its audit entry and statement of reasons, counted "
        "in the transparency report's day; its PDQ hash blocked for uploads (first)",
    ),
    Transition(
        "take_into_review",
        (PUBLISHED,),
        IN_REVIEW,
        "reports passed the threshold: out of the feed, creator page and served copies; "
        "joins the queue; audit entry",
    ),
    Transition(
        "approve",
        (IN_REVIEW,),
        PUBLISHED,
        "a moderator's decision: leaves the queue; reports counted afresh; served copies, "
        "feed and creator-page entries; audit entry; only while the creator is in good standing",
        makes_public=True,
    ),
    Transition(
        "dismiss",
        (PUBLISHED,),
        PUBLISHED,
        "a moderator kept a reported image up: leaves the queue; reports counted afresh; audit "
        "entry",
        stays_public=True,
    ),
    Transition(
        "remove",
        (PUBLISHED, IN_REVIEW),
        REMOVED,
        "a moderator's decision (or delete): leaves the queue, feed, creator page and served "
        "copies; a strike with the audit entry and statement of reasons, counted in the "
        "transparency report's day; its PDQ hash blocked for uploads; the strike policy may "
        "suspend",
    ),
    Transition(
        "reverse",
        (REMOVED, REJECTED),
        PUBLISHED,
        "an appeal reversed a removal or rejection: served copies, feed and creator-page "
        "entries back; the strike withdrawn; its PDQ hash unblocked; audit entry; only while "
        "the creator is not banned",
        makes_public=True,
    ),
    Transition(
        "delete",
        (QUEUED, SCANNING, PUBLISHED, REJECTED, FAILED),
        REMOVED,
        "by its creator, never while in review (409 under_review): leaves the sweeper, feed, "
        "creator page and served copies",
    ),
    Transition(
        "erase",
        (QUEUED, SCANNING, PUBLISHED, IN_REVIEW, REJECTED, FAILED),
        REMOVED,
        "the creator's erasure: leaves every read path and the queue at once",
    ),
    Transition(
        "withhold",
        (PUBLISHED,),
        PUBLISHED,
        "its creator was banned: out of the feed, creator page and served copies",
    ),
    Transition(
        "reinstate",
        (PUBLISHED,),
        PUBLISHED,
        "its creator's ban was lifted (restored, or only suspended): served copies, feed and "
        "creator-page entries back",
        makes_public=True,
    ),
)
_BY_NAME = {transition.name: transition for transition in TRANSITIONS}

# What `_move` answers.
MOVED = "moved"
REFUSED = "refused"  # the image was not in a state the move starts from
CREATOR_RESTRICTED = "creator_restricted"  # a move to public while the creator may not publish


def review_rank(category: str | None, created_at_iso: str) -> str:
    rank = SEVERITY.get(category or "", REPORTED_RANK)
    return f"{rank}#{created_at_iso}"


def joins_queue(generation: Generation, category: str | None) -> list[Any]:
    """The actions that put an image in the moderation queue, ranked by `category`'s severity
    (an image in review, or a published one with reports or notices, which stays public)."""
    created = clock.iso(generation.created_at) if generation.created_at else clock.iso(clock.now())
    return [
        Generation.review_shard.set(QUEUE),
        Generation.review_rank.set(review_rank(category, created)),
    ]


def most_severe(categories: set[str]) -> str | None:
    """Of reports' and notices' categories, the one that ranks the queue item highest."""
    ranked = sorted(categories, key=lambda c: SEVERITY.get(c, REPORTED_RANK))
    return ranked[0] if ranked else None


# A decision answers the image's notices (services/notices.py marks each one).
_NOTICES_ANSWERED = [
    Generation.notice_count.remove(),
    Generation.notice_categories.remove(),
    Generation.open_notice_ids.remove(),
]


def awaits_decision(generation: Generation) -> bool:
    """In the moderation queue: in review, or published with reports or notices pending."""
    return generation.status == IN_REVIEW or (
        generation.status == PUBLISHED and generation.review_shard is not None
    )


def _move(
    generation: Generation,
    name: str,
    extra: list[Any] | None = None,
    *,
    was: str | tuple[str, ...] | None = None,
    deadline_before: datetime | None = None,
    condition: Any = None,
    standing: Any = None,
    audit_event: audit.Event | None = None,
    strike: int = 0,
    statement: Statement | None = None,
) -> str:
    """Apply transition `name` to the generation in one transaction.

    `was`: the status the caller read (the move then requires exactly it, so the entries of
    that state are the ones removed), or the states an event may find it in; without it, any
    of the transition's sources. `condition`: more the item must meet. `standing`: what a move
    to public requires of the creator's profile (good standing unless given). `strike`: the
    creator gets one (or, at -1, one is withdrawn), accounted for by `audit_event`.
    `statement`: the statement of reasons of the decision, written with it and counted in the
    transparency report's day (`report_days`)."""
    transition = _BY_NAME[name]
    now = clock.now()
    sources = transition.sources if was is None else (was,) if isinstance(was, str) else was
    assert set(sources) <= set(transition.sources), (name, sources)
    actions: list[Any] = [
        *(extra or []),
        Generation.status.set(transition.target),
        Generation.updated_at.set(now),
    ]
    if transition.target not in OPEN_STATES:
        actions += [
            Generation.deadline_at.remove(),
            Generation.sweep_shard.remove(),
            Generation.invoke_pending.remove(),
        ]
    if transition.target == IN_REVIEW:
        actions += joins_queue(generation, generation.category)
    elif IN_REVIEW in sources or PUBLISHED in sources:
        # A reported published image waits in the queue too: every decision takes it out.
        actions += [Generation.review_shard.remove(), Generation.review_rank.remove()]
    required = Generation.generation_id.exists() & Generation.status.is_in(*sources)
    if deadline_before is not None:
        required &= Generation.deadline_at < deadline_before
    if condition is not None:
        required &= condition
    becomes_public = transition.makes_public
    creator: Any = (UserProfile, generation.owner_id, None)
    if becomes_public:
        generation.published_at = generation.published_at or now
        actions += [
            Generation.published_at.set(generation.published_at),
            Generation.copies_signed.set(True),  # publishing.write_copies signed them
        ]
    removes_entries = (
        PUBLISHED in sources and not transition.stays_public and generation.published_at is not None
    )
    if becomes_public:
        search.index(generation)  # before the transaction that points at it, as the copies
    if not (becomes_public or removes_entries or strike or audit_event or statement):
        # Nothing to write beside the item: one conditional update, half a transaction's cost.
        try:
            generation.update(actions=actions, condition=required)  # answers the whole item
        except UpdateError as exc:
            if refused_by_condition(exc):
                return REFUSED
            raise
        return MOVED
    try:
        with transaction() as tx:
            tx.update(generation, actions=actions, condition=required)
            creator_may = None
            if becomes_public:
                # In the same transaction: a restriction written a moment earlier wins.
                creator_may = standing if standing is not None else accounts.active_condition(now)
                creator_name = display_names.current(generation.owner_id)
                published_at = generation.published_at
                for entry in publishing.entries(generation, published_at, creator_name):
                    tx.save(entry)
            elif removes_entries:
                for entry in publishing.entries(generation, generation.published_at):
                    tx.delete(entry)
            if strike:
                # One write per item in a transaction: the standing rides on the strike's.
                creator = UserProfile(generation.owner_id)
                exists = UserProfile.user_id.exists()
                tx.update(
                    creator,
                    actions=[UserProfile.strikes.add(strike)],
                    condition=exists if creator_may is None else exists & creator_may,
                )
            elif creator_may is not None:
                tx.condition_check(UserProfile, generation.owner_id, condition=creator_may)
            if audit_event is not None:
                tx.save(audit.entry(audit_event), condition=AuditEntry.sk.does_not_exist())
            if statement is not None:
                tx.save(statement, condition=Statement.statement_id.does_not_exist())
                report_days.statement_made(tx, statement)
    except TransactWriteError as exc:
        if becomes_public and tx.refused(exc, creator) and not tx.refused(exc, generation):
            return CREATOR_RESTRICTED
        if refused_by_condition(exc):
            return REFUSED
        raise
    if removes_entries:
        search.unindex(generation)  # after the transaction that stopped pointing at it
    # A withheld image (its creator banned) left public, and the count, when it was withheld.
    leaves_public = removes_entries and not generation.withheld
    if generation.remix_of and (becomes_public or leaves_public):
        _count_remix(generation.remix_of, 1 if becomes_public else -1)
    return MOVED


def _count_remix(source_id: str, change: int) -> None:
    """The source's count of public remixes follows a remix into and out of public: one atomic
    ADD on the source's record (read with its page, never counted by a query). After the move,
    not in it: a source deleted or erased since must not stop its remix's move. A process that
    dies between the two leaves the count one short (the move is not repeated)."""
    try:
        Generation(source_id).update(
            actions=[Generation.remixes.add(change)],
            condition=Generation.generation_id.exists(),
        )
    except UpdateError as exc:
        if not refused_by_condition(exc):
            logger.warning("remix count not updated", extra={"generation_id": source_id})


# The model's side ------------------------------------------------------------------------


def start(generation_id: str) -> bool:
    """The endpoint took the request: it is no longer pending, and has the queued deadline."""
    deadline = clock.now() + timedelta(seconds=get_settings().queued_deadline_seconds)
    extra = [Generation.invoke_pending.remove(), Generation.deadline_at.set(deadline)]
    return _move(Generation(generation_id), "start", extra) == MOVED


def claim_restart(generation_id: str, now: datetime) -> Generation | None:
    """Take the next start attempt of a generation the model never took, once the submit that
    recorded it can no longer start it itself (its start deadline has passed; one claimer wins:
    the sweeper or a retry of the submit), unless it has waited longer than the queued deadline
    since it was accepted. Answers the whole item (its input key included), or None."""
    settings = get_settings()
    claimed = Generation(generation_id)
    pending = (
        Generation.invoke_pending.exists()
        & (Generation.created_at > now - timedelta(seconds=settings.queued_deadline_seconds))
        & (Generation.deadline_at < now)
    )
    retry_at = now + timedelta(seconds=settings.start_retry_seconds)
    extra = [Generation.deadline_at.set(retry_at)]
    moved = _move(claimed, "claim_restart", extra, condition=pending)
    return claimed if moved == MOVED else None


def output_ready(generation_id: str) -> bool:
    deadline = clock.now() + timedelta(seconds=get_settings().scanning_deadline_seconds)
    return (
        _move(Generation(generation_id), "output_ready", [Generation.deadline_at.set(deadline)])
        == MOVED
    )


def fail(
    generation_id: str,
    reason: str,
    from_states: tuple[str, ...] = OPEN_STATES,
    deadline_before: datetime | None = None,
    extra: list[Any] | None = None,
) -> bool:
    """Finish open work as failed, with a user-safe reason code."""
    changes = [*(extra or []), Generation.error.set(reason)]
    moved = _move(
        Generation(generation_id), "fail", changes, was=from_states, deadline_before=deadline_before
    )
    return moved == MOVED


# The scan's outcomes ---------------------------------------------------------------------


def publish(generation: Generation, extra: list[Any]) -> str:
    """The scan passed it (its served copies are written): public, if its creator may still
    publish; otherwise `failed` with `account_restricted` (and its copies taken down again).
    Answers the state it ended in, or "unchanged" when it was no longer open."""
    moved = _move(generation, "publish", extra)
    if moved == CREATOR_RESTRICTED:
        fail(generation.generation_id, "account_restricted", extra=extra)
        publishing.delete_copies(generation.generation_id)
        search.unindex(generation)  # written before the move, which did not happen
        logger.info(
            "work of a restricted creator not published",
            extra={"generation_id": generation.generation_id},
        )
        return FAILED
    return PUBLISHED if moved == MOVED else "unchanged"


def hold_for_review(generation: Generation, category: str | None, extra: list[Any]) -> bool:
    generation.category = category
    changes = [*extra, *([Generation.category.set(category)] if category else [])]
    return _move(generation, "hold_for_review", changes) == MOVED


def reject(
    generation: Generation, category: str | None, extra: list[Any], scan_record: dict[str, Any]
) -> bool:
    """The scan refused it: a strike, with its audit entry, in the same transaction."""
    chosen = category or UNSPECIFIED
    event = audit.Event(
        audit.POLICY_ACTOR,
        "reject",
        "image",
        generation.generation_id,
        f"automated scan ({chosen})",
        {"category": chosen},
    )
    statement = statements.about_content(
        generation,
        decided_by=audit.POLICY_ACTOR,
        category=chosen,
        explanation=f"The automated check found the image or its prompt to be {chosen}.",
        facts=statements.scan_facts(scan_record),
        automated_detection=True,
        automated_decision=True,
    )
    moved = _move(
        generation,
        "reject",
        [*extra, Generation.category.set(chosen)],
        audit_event=event,
        strike=1,
        statement=statement,
    )
    if moved != MOVED:
        return False
    _after_strike(generation.owner_id, f"rejected image ({chosen})", statement.statement_id)
    return True


# People's actions ------------------------------------------------------------------------


def take_into_review(generation: Generation, reason: str, details: dict[str, Any]) -> bool:
    """Reports took a public image out of view, to a moderator."""
    event = audit.Event(
        audit.POLICY_ACTOR, "auto_review", "image", generation.generation_id, reason, details
    )
    moved = _move(generation, "take_into_review", was=PUBLISHED, audit_event=event) == MOVED
    if moved:
        publishing.delete_copies(generation.generation_id)
    return moved


def approve(
    generation: Generation, moderator: str, reason: str, details: dict[str, Any] | None
) -> None:
    """A moderator publishes an image in review; its reports are counted afresh."""
    if generation.status != IN_REVIEW:
        raise Conflict(f"Only an image in review can be approved; this one is {generation.status}.")
    publishing.write_copies_from_original(generation)
    event = audit.Event(moderator, "approve", "image", generation.generation_id, reason, details)
    extra = [
        Generation.category.remove(),
        Generation.report_count.set(0),
        Generation.report_reasons.remove(),
        *_NOTICES_ANSWERED,
    ]
    moved = _move(generation, "approve", extra, was=IN_REVIEW, audit_event=event)
    if moved == MOVED:
        return
    publishing.delete_copies(generation.generation_id)
    if moved == CREATOR_RESTRICTED:
        raise Conflict(
            "The creator's account is restricted: this image cannot be published.",
            details={"creator": "restricted"},
        )
    raise Conflict("The image changed while deciding; look again.")


def dismiss(generation: Generation, moderator: str, reason: str) -> None:
    """A moderator keeps a reported published image up: out of the queue, reports afresh."""
    event = audit.Event(moderator, "dismiss", "image", generation.generation_id, reason)
    extra = [Generation.report_count.set(0), Generation.report_reasons.remove(), *_NOTICES_ANSWERED]
    moved = _move(
        generation,
        "dismiss",
        extra,
        was=PUBLISHED,
        condition=Generation.review_shard.exists(),
        audit_event=event,
    )
    if moved != MOVED:
        raise Conflict("The image changed while deciding; look again.")


def remove(
    generation: Generation,
    moderator: str,
    reason: str,
    category: str | None,
    action: str = "remove",
) -> str | None:
    """A moderator removes a published or in-review image: a strike with the audit entry and
    the statement of reasons, whose id is answered. A retry of a removal whose transaction is
    in finishes what follows it, with the same statement."""
    chosen = category or generation.category or "other"
    if generation.status not in (PUBLISHED, IN_REVIEW, REMOVED):
        raise Conflict(
            f"Only a published or in-review image can be removed; this one is {generation.status}."
        )
    if generation.status == REMOVED:  # a retry: the removal's statement names the decision
        statement_id = statements.removal_of(generation)
        search.unindex(generation)  # the removal that moved it may have stopped before this
    else:
        details = {"category": category} if category else None
        event = audit.Event(moderator, action, "image", generation.generation_id, reason, details)
        statement = statements.about_content(
            generation,
            decided_by=moderator,
            category=chosen,
            explanation=reason,
            facts=statements.review_facts(generation),
            automated_detection=statements.flagged_by_scan(generation),
            automated_decision=False,
            source=statements.source_of(generation),
        )
        moved = _move(
            generation,
            "remove",
            [Generation.category.set(chosen), *_NOTICES_ANSWERED],
            was=generation.status,
            audit_event=event,
            strike=1,
            statement=statement,
        )
        if moved != MOVED:
            raise Conflict("The image changed while deciding; look again.")
        statement_id = statement.statement_id
    publishing.delete_copies(generation.generation_id)
    # Uploads of the removed image are refused from now on (a retry writes the same items).
    removed = hash_lists.original_fingerprint(generation.output_key)
    if removed is not None:
        hash_lists.block_image(generation.generation_id, removed, chosen)
    _after_strike(generation.owner_id, f"removal ({chosen})", statement_id)
    return statement_id


def reverse(generation: Generation, moderator: str, reason: str, decision_id: str) -> None:
    """An appeal reversed the decision that removed or rejected the image: it is public again
    and the decision's strike is withdrawn, in one transaction. A creator's own deletion or
    erasure is never undone; a retry finds it published and changes nothing."""
    if generation.status == PUBLISHED:
        return
    if generation.status not in (REMOVED, REJECTED) or generation.category in ERASED_OR_DELETED:
        raise Conflict("This image can no longer be published.")
    publishing.write_copies_from_original(generation)
    # The decision no longer refuses uploads of the image; put back if the move does not happen.
    blocked = hash_lists.original_fingerprint(generation.output_key)
    if blocked is not None:
        hash_lists.unblock_image(generation.generation_id, blocked)
    event = audit.Event(
        moderator, "reverse", "image", generation.generation_id, reason, {"decision": decision_id}
    )
    moved = _move(
        generation,
        "reverse",
        [Generation.category.remove()],
        was=generation.status,
        condition=~Generation.category.is_in(*ERASED_OR_DELETED),
        standing=UserProfile.status != BANNED,
        audit_event=event,
        strike=-1,
    )
    if moved == MOVED:
        return
    if blocked is not None:
        hash_lists.block_image(generation.generation_id, blocked, generation.category or "other")
    publishing.delete_copies(generation.generation_id)
    if moved == CREATOR_RESTRICTED:
        raise Conflict(
            "The creator is banned: decide the ban's appeal first.",
            details={"creator": "banned"},
        )
    raise Conflict("The image changed while deciding; look again.")


def delete_by_creator(generation: Generation) -> None:
    """Its creator deletes it: gone from every read path at once. Not while a moderator's
    decision is pending: that would dodge the decision and its strike."""
    current: Generation | None = generation
    for _ in range(3):  # it may move while we look (the scan finishing, a report)
        if current is None or current.status == REMOVED:
            break
        if awaits_decision(current):
            raise UnderReview()
        extra = [Generation.category.set(DELETED)]
        not_queued = Generation.review_shard.does_not_exist()  # a report may arrive meanwhile
        if _move(current, "delete", extra, was=current.status, condition=not_queued) == MOVED:
            break
        current = find(generation.generation_id)
    else:
        raise Conflict("The image changed while deleting; try again.")
    publishing.delete_copies(generation.generation_id)


def erase(generation_id: str) -> None:
    """The creator erased their account: out of every read path and the queue."""
    for _ in range(3):  # it may move while we look
        current = find(generation_id)
        if current is None or current.status == REMOVED:
            break
        extra = [Generation.category.set(ERASED)]
        if _move(current, "erase", extra, was=current.status) == MOVED:
            break
    publishing.delete_copies(generation_id)


# The creator's standing ------------------------------------------------------------------


def withhold_all(owner_id: str) -> int:
    """A ban: each published image of the creator leaves every public read."""
    withheld = 0
    for listed in Generation.by_owner.query(owner_id):
        generation = find(listed.generation_id)  # the index may lag: read the item itself
        if generation is None or generation.status != PUBLISHED or generation.withheld:
            continue
        extra = [Generation.withheld.set(True)]
        not_yet = Generation.withheld.does_not_exist()
        if _move(generation, "withhold", extra, was=PUBLISHED, condition=not_yet) == MOVED:
            publishing.delete_copies(generation.generation_id)
            withheld += 1
    return withheld


def reinstate_all(owner_id: str) -> int:
    """A ban lifted: the images it withheld are public again (unless banned once more)."""
    reinstated = 0
    for listed in Generation.by_owner.query(owner_id):
        if not listed.withheld:
            continue  # (set at the ban, long before: the index has it)
        generation = find(listed.generation_id)
        if generation is None or generation.status != PUBLISHED or not generation.withheld:
            continue
        publishing.write_copies_from_original(generation)
        # A withheld image needs only an unbanned creator, not one in good standing.
        moved = _move(
            generation,
            "reinstate",
            [Generation.withheld.remove()],
            was=PUBLISHED,
            condition=Generation.withheld.exists(),
            standing=UserProfile.status != BANNED,
        )
        if moved == MOVED:
            reinstated += 1
        else:
            publishing.delete_copies(generation.generation_id)
    return reinstated


def _after_strike(owner_id: str, cause: str, decision_id: str | None) -> None:
    from chalicelib.services.enforcement import apply_strike_policy

    apply_strike_policy(owner_id, cause, decision_id)
