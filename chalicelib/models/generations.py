"""Generations: one item per accepted prompt, from `queued` to a final state.

Access patterns
- a generation by id (owner check in the service): GetItem.
- the caller's generations, newest first, paged: Query on GSI `by_owner` (owner_id, created_at).
- generations still open past their deadline (the sweeper), or not yet taken by the model
  (`invoke_pending`, a short deadline): Query on the sparse GSI `open_work`
  (sweep_shard, deadline_at < now); final states remove `sweep_shard`, so the index only ever
  holds work in flight, spread over a few shards.
- the moderation queue, most urgent first: Query on the sparse GSI `review_queue`
  (review_shard = "queue", review_rank = "<severity rank>#<created_at>"); only images in
  review, and published ones with reports or notices awaiting a decision, carry the attributes.
  Each item names its open notices (`open_notice_ids`), so the page's notices are one
  BatchGetItem on the notices table (100 keys a request), whatever the page holds.
- state changes: UpdateItem (or a transaction) with a condition on the current status, so a
  duplicate or late event never moves a generation twice; all of them in
  `chalicelib.services.lifecycle`.
- revoke the signed review links of an image: UpdateItem of `review_links_revoked_at`, in one
  transaction with its audit entry (chalicelib.services.moderation).
- one generation by an id that came from outside (a path, an event): `find`, which refuses a
  malformed id without a read and reads consistently, so a change just made is seen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.constants import STREAM_NEW_AND_OLD_IMAGE
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.adapters import ids
from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings

QUEUED = "queued"
SCANNING = "scanning"
PUBLISHED = "published"
IN_REVIEW = "in_review"
REJECTED = "rejected"
FAILED = "failed"
REMOVED = "removed"
OPEN_STATES = (QUEUED, SCANNING)
FINAL_STATES = (PUBLISHED, IN_REVIEW, REJECTED, FAILED, REMOVED)
SWEEP_SHARDS = 4


class ByOwner(GlobalSecondaryIndex["Generation"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by_owner"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class OpenWork(GlobalSecondaryIndex["Generation"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "open_work"
        projection = KeysOnlyProjection()

    sweep_shard = UnicodeAttribute(hash_key=True)
    deadline_at = UTCDateTimeAttribute(range_key=True)


class ReviewQueue(GlobalSecondaryIndex["Generation"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "review_queue"
        projection = AllProjection()

    review_shard = UnicodeAttribute(hash_key=True)
    review_rank = UnicodeAttribute(range_key=True)


class ModelRef(MapAttribute[str, str]):
    name = UnicodeAttribute()
    version = UnicodeAttribute()


class Generation(Model):
    class Meta:
        table_name = get_settings().generations_table
        region = region()
        billing_mode = BILLING_MODE
        # Every change, before and after, to events/changes.py (queue places, live updates,
        # webhooks); created with the table locally (PynamoDB) and in AWS (infra/data.py).
        stream_view_type = STREAM_NEW_AND_OLD_IMAGE

    generation_id = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()
    status = UnicodeAttribute(default=QUEUED)
    prompt = UnicodeAttribute()
    negative_prompt = UnicodeAttribute(null=True)
    width = NumberAttribute()
    height = NumberAttribute()
    steps = NumberAttribute()
    seed = NumberAttribute()
    # Absent on generations made before they could be chosen: 7.5 and "euler" then.
    guidance_scale = NumberAttribute(null=True)
    scheduler = UnicodeAttribute(null=True)
    # The published image this one started from (POST /generations with `remix_of`).
    remix_of = UnicodeAttribute(null=True)
    # Image-to-image (POST /generations with `init_image`): the caller's own upload it started
    # from (kept private: never shown to anyone but its owner) and the strength.
    init_upload = UnicodeAttribute(null=True)
    strength = NumberAttribute(null=True)
    # The ids of the generations one request made (`n` > 1), in seed order; on each of them.
    batch = ListAttribute[str](null=True)
    # How many public images were remixed from this one: counted as each becomes public and
    # left out of public (chalicelib.services.lifecycle), read with the image, never counted.
    remixes = NumberAttribute(null=True)
    terms_version = NumberAttribute()
    terms_sha256 = UnicodeAttribute()
    input_key = UnicodeAttribute()
    output_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    deadline_at = UTCDateTimeAttribute(null=True)
    sweep_shard = UnicodeAttribute(null=True)
    # Set until the model's endpoint has taken the request; the sweeper starts it again.
    invoke_pending = BooleanAttribute(null=True)
    # Its number in the endpoint's queue while `queued` (services/queue_position.py).
    queue_ticket = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    model = ModelRef(null=True)  # type: ignore[no-untyped-call]
    # The automated scan's outcome: scanner, labels with scores, the deciding label.
    scan_result = MapAttribute[str, Any](null=True)  # type: ignore[no-untyped-call]
    # Why an image was rejected or removed: sexual | violent | hateful | illegal | ...
    category = UnicodeAttribute(null=True)
    published_at = UTCDateTimeAttribute(null=True)
    # Its served copies carry a signed C2PA manifest: set by every transition that makes it
    # public (publishing signs the copies first). Absent on images published before signing.
    copies_signed = BooleanAttribute(null=True)
    # Reports by users (one per user counts), summarised here for the moderation queue.
    report_count = NumberAttribute(default=0)
    report_reasons = UnicodeSetAttribute(null=True)
    # Notices from anyone (DSA art. 16) awaiting a decision, summarised the same way.
    notice_count = NumberAttribute(null=True)
    notice_categories = UnicodeSetAttribute(null=True)
    # Their ids: the queue reads a page's notices in one BatchGetItem, not a Query per item.
    open_notice_ids = UnicodeSetAttribute(null=True)
    # Set only while in review: the queue's sparse index, most urgent first.
    review_shard = UnicodeAttribute(null=True)
    review_rank = UnicodeAttribute(null=True)
    # Set while a published image is kept out of every public read because its creator is
    # banned (a restore clears it and puts the image back).
    withheld = BooleanAttribute(null=True)
    # How many users like it while published (services/likes.py): kept through a withdrawal so
    # the entries written when it is public again carry it.
    likes = NumberAttribute(null=True)
    # Every signed review link of this image minted up to this moment is revoked (a moderator's
    # DELETE of its review links); read with the image by the link's check, so no extra read.
    review_links_revoked_at = UTCDateTimeAttribute(null=True)

    by_owner = ByOwner()
    open_work = OpenWork()
    review_queue = ReviewQueue()


def guidance_of(generation: Generation) -> float:
    """Its guidance scale; one recorded before it could be chosen was painted at 7.5."""
    value = generation.guidance_scale
    return float(value) if value is not None else 7.5


def scheduler_of(generation: Generation) -> str:
    """Its scheduler; one recorded before it could be chosen was painted with Euler."""
    return generation.scheduler or "euler"


def is_public(generation: Generation) -> bool:
    """Shown to everyone: published, and not withheld with its banned creator."""
    return generation.status == PUBLISHED and not generation.withheld


def find(
    generation_id: str, visible: Callable[[Generation], bool] | None = None
) -> Generation | None:
    """The generation as last written, if the id is well formed, it exists and `visible`
    (when given) says it may be seen; None otherwise."""
    if not ids.is_id(generation_id):
        return None
    try:
        generation = Generation.get(generation_id, consistent_read=True)
    except DoesNotExist:
        return None
    if visible is not None and not visible(generation):
        return None
    return generation
