"""The user profile: one item per signed-in user, keyed by the token's `sub`.

Access patterns
- get the caller's profile (status, restriction, accepted terms) by user id, with the erasure
  marker: one BatchGetItem, the one read every signed-in request makes (memoised for the
  request).
- record an accepted terms version: UpdateItem inside the consent transaction.
- is this account erased: the erasure marker, read in the same BatchGetItem as the profile.

No e-mail, legal name or address is ever stored here: the user id is the opaque `sub`. A
user may choose a public display name (`display_name`, with the claim key it holds in the names
table, `display_name_key`; see chalicelib/models/names.py).
"""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings

ACTIVE = "active"
ERASED = "erased"
SUSPENDED = "suspended"
BANNED = "banned"


class UserProfile(Model):
    class Meta:
        table_name = get_settings().users_table
        region = region()
        billing_mode = BILLING_MODE

    user_id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute(default=ACTIVE)
    suspended_until = UTCDateTimeAttribute(null=True)
    restriction_reason = UnicodeAttribute(null=True)
    restricted_by = UnicodeAttribute(null=True)
    restricted_at = UTCDateTimeAttribute(null=True)
    strikes = NumberAttribute(default=0)
    accepted_terms_version = NumberAttribute(null=True)
    accepted_terms_sha256 = UnicodeAttribute(null=True)
    display_name = UnicodeAttribute(null=True)
    display_name_key = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # Only on an erasure marker (`user_id = "erased#<sha256 of the sub>"`), which refuses the
    # erased account's still-valid tokens until they have all expired, then goes by TTL.
    expires_at = TTLAttribute(null=True)


def erased_marker_key(user_id: str) -> str:
    import hashlib

    return "erased#" + hashlib.sha256(user_id.encode()).hexdigest()
