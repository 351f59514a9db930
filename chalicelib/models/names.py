"""Display names: one claim item per name a user holds, keyed by the name as the prompt screen
reads it (case, accents, confusables and look-alike digits folded, spaces dropped), so "Ana",
"ÁNA" and "\u0410na" (a Cyrillic first letter) are one name.

Access patterns
- claim a name: PutItem with "no such key yet", in the same transaction that sets the name on
  the profile and deletes the user's previous claim; two users racing for a name cannot both
  win, because DynamoDB refuses the second conditional put.
- release a name (clearing it, erasure): DeleteItem with the condition that the caller holds it.

Where the gallery shows a name: `GalleryEntry.creator_name` is written onto each entry when it
is published, and a name change rewrites the creator's existing entries (two small UpdateItems
per published image: its creator-page entry and its feed entry), so a page of the gallery never
reads a profile per item. A name changes rarely and a creator publishes far fewer images than
the gallery serves pages: a creator with 500 images pays ≈1,000 writes once per rename, against
a profile read per item on every page view otherwise. The rewrite runs in the request
(sequential UpdateItems, ≈10 ms each: about 1,000 published images fit the API's 28 s); an
image published while its creator renames may keep the old name until the name is sent again.
An image's own page reads the name from the profile (one GetItem for one image).
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings


class NameClaim(Model):
    class Meta:
        table_name = get_settings().names_table
        region = region()
        billing_mode = BILLING_MODE

    name_key = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    claimed_at = UTCDateTimeAttribute()
