"""Notices (DSA art. 16): anyone, signed in or not, tells the service that an image is illegal
or breaks the terms.

The notice itself (what, which image, when, the outcome) is kept for the transparency report;
the notifier's name and e-mail live apart, in `NoticeContact`, which DynamoDB deletes by TTL once
the notice is decided and the appeal window has passed (or a year after it was sent, if it never
is).

Access patterns
- file a notice: PutItem of both, in one transaction with the image's notice counter and the
  notice's id in its `open_notice_ids` (the queue's item), the notifier address's
  rate-limit slot (`models/quota.py`) and its day's counters (`models/report_days.py`).
- a notice by id (its status URL, which is signed): GetItem.
- the open notices of a page of the moderation queue (or of the one image a moderator looks
  at): BatchGetItem of the ids the images name, 100 keys a request.
- the notices of one image (a decision answers them all): Query on GSI `by_image`
  (image_id, created_at); each answer is a conditional UpdateItem (still received), in one
  transaction with its wait added to the day's counters. The transparency report reads only
  those counters.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings

CATEGORIES = ("copyright", "privacy", "illegal", "terms")
RECEIVED = "received"
DECIDED = "decided"
OUTCOME_REMOVED = "removed"  # the image was removed
OUTCOME_NO_ACTION = "no_action"  # a moderator kept it up


class ByImage(GlobalSecondaryIndex["Notice"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by_image"
        projection = AllProjection()

    image_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Notice(Model):
    class Meta:
        table_name = get_settings().notices_table
        region = region()
        billing_mode = BILLING_MODE

    notice_id = UnicodeAttribute(hash_key=True)
    image_id = UnicodeAttribute()
    category = UnicodeAttribute()
    explanation = UnicodeAttribute()
    good_faith = BooleanAttribute()
    status = UnicodeAttribute(default=RECEIVED)
    created_at = UTCDateTimeAttribute()
    decided_at = UTCDateTimeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)
    statement_id = UnicodeAttribute(null=True)  # the removal's statement of reasons

    by_image = ByImage()


class NoticeContact(Model):
    """Who sent a notice, for as long as they may be told its outcome or take it further."""

    class Meta:
        table_name = get_settings().notice_contacts_table
        region = region()
        billing_mode = BILLING_MODE

    notice_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    expires_at = TTLAttribute()
