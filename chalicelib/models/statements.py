"""Statements of reasons: what was decided about a user's content or account, and why.

Each decision that restricts someone (the scan's rejection, a moderator's removal, a
suspension, a ban, the strike policy's suspension) writes one, in the same transaction as the
decision; an appeal's outcome is a statement too. An appeal lives on the statement it contests
(one per decision), so filing and deciding it are conditional writes of one item.

Access patterns
- a statement by id (the affected user's appeal, a moderator's decision on it): GetItem.
- the statements about one user, newest first, paged (GET /me/decisions, export, erasure):
  Query on GSI `by_subject` (user_id, sk).
- the open appeals, oldest first (GET /moderation/appeals): Query on the sparse GSI
  `open_appeals` (appeal_queue = "open", appealed_sk); deciding an appeal removes the
  attributes, so the index only ever holds open ones.
- the automatic suspension a strike caused (lifted when the strike's decision is reversed):
  its statement names the decision in `caused_by`, read through `by_subject`.
- the statements since a date (the DSA export, an operator's occasional run): Scan with a
  filter on `created_at`. The public transparency report reads none: each decision and
  appeal adds to its day's counters (`models/report_days.py`) in its own transaction.

The table's stream (NEW_AND_OLD_IMAGES) hands every new statement and every change of one to
`events/decisions.py`, which pushes what the subject would notice to their open WebSockets.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.constants import STREAM_NEW_AND_OLD_IMAGE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings

# What was decided.
CONTENT_REMOVED = "content_removed"
ACCOUNT_SUSPENDED = "account_suspended"
ACCOUNT_TERMINATED = "account_terminated"
DECISION_UPHELD = "decision_upheld"  # an appeal's outcome
DECISION_REVERSED = "decision_reversed"  # an appeal's outcome
RESTRICTIONS = (CONTENT_REMOVED, ACCOUNT_SUSPENDED, ACCOUNT_TERMINATED)

# On what ground.
GROUND_TERMS = "terms"  # incompatible with the terms of service
GROUND_ILLEGAL = "illegal"  # illegal content

# What started it.
SOURCE_OWN_INITIATIVE = "own_initiative"  # the service's own scan or moderators
SOURCE_REPORT = "report"  # signed-in users' reports
SOURCE_NOTICE = "notice"  # a notice from anyone (DSA art. 16)

OPEN = "open"
DECIDED = "decided"
UPHELD = "upheld"
REVERSED = "reversed"


class BySubject(GlobalSecondaryIndex["Statement"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by_subject"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class OpenAppeals(GlobalSecondaryIndex["Statement"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "open_appeals"
        projection = AllProjection()

    appeal_queue = UnicodeAttribute(hash_key=True)
    appealed_sk = UnicodeAttribute(range_key=True)


class Statement(Model):
    class Meta:
        table_name = get_settings().statements_table
        region = region()
        billing_mode = BILLING_MODE
        # Every new statement and change, before and after, to events/decisions.py (live
        # pushes to the subject); created with the table locally and in AWS (infra/data.py).
        stream_view_type = STREAM_NEW_AND_OLD_IMAGE

    statement_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()  # whose content or account it is about
    sk = UnicodeAttribute()  # "<ISO time>#<statement id>": newest first per user
    created_at = UTCDateTimeAttribute()
    decision = UnicodeAttribute()
    ground = UnicodeAttribute()
    ground_reference = UnicodeAttribute()  # the terms' clause, or the law
    explanation = UnicodeAttribute()
    category = UnicodeAttribute()
    facts = UnicodeAttribute()
    automated_detection = BooleanAttribute()
    automated_decision = BooleanAttribute()
    source = UnicodeAttribute()
    image_id = UnicodeAttribute(null=True)
    # An upload the automated upload scan refused (never in public or transparency outputs; the
    # owner sees it; erasure clears it, as it clears image_id).
    upload_id = UnicodeAttribute(null=True)
    content_created_at = UTCDateTimeAttribute(null=True)
    end_date = UTCDateTimeAttribute(null=True)  # a suspension's end
    # Who decided: a moderator's id, or "policy" (never shown to the user; an appeal of a
    # moderator's decision goes to another moderator).
    decided_by = UnicodeAttribute()
    strike = BooleanAttribute(default=False)  # the decision gave the user a strike
    caused_by = UnicodeAttribute(null=True)  # the decision whose strike caused this one
    refers_to = UnicodeAttribute(null=True)  # an appeal outcome: the decision appealed
    # A reversed decision's strike was taken back (set with the strike's -1, in one
    # transaction: a retried reversal never takes it back twice).
    strike_withdrawn_at = UTCDateTimeAttribute(null=True)
    # The appeal, once filed.
    appeal_status = UnicodeAttribute(null=True)  # open | decided
    appeal_explanation = UnicodeAttribute(null=True)
    appealed_at = UTCDateTimeAttribute(null=True)
    appeal_outcome = UnicodeAttribute(null=True)  # upheld | reversed
    appeal_reason = UnicodeAttribute(null=True)
    appeal_decided_by = UnicodeAttribute(null=True)
    appeal_decided_at = UTCDateTimeAttribute(null=True)
    appeal_queue = UnicodeAttribute(null=True)  # "open" while it awaits a moderator
    appealed_sk = UnicodeAttribute(null=True)

    by_subject = BySubject()
    open_appeals = OpenAppeals()
