"""PDQ hashes an upload is refused for: hashes from operator-imported lists (hash-sharing
programmes' CSV files, `objektify hashlist import`) and the fingerprints of images this service
removed or rejected. Indexed like the provenance fingerprints (`chalicelib/hash_index.py`): 16
items per hash, one per (band, that band's value).

partition key `band_key`   "{band:02d}#{value:04x}"
sort key      `entry_id`   "list#{list_name}#{hash}" for a listed hash (the same hash imported
                           again, into the same list, writes the same items: idempotent),
                           "image#{image_id}" for an image removed or rejected here, or
                           "allow#{hash}" for an allowed hash (list "allowed": an appeal
                           reversed an upload's rejection for a list match; see hash_lists).

The items name the list, the category and the hash (and for an image of this service, its
image id and the decision's category): never who uploaded, made or reported anything. They stay
when the image's creator is erased; an appeal that reverses the decision removes the image's.

Access patterns
- block a hash: BatchWriteItem of its 16 items (also 25 at a time across hashes, an import).
- look a hash up: 272 Queries (each band's value and its 16 neighbours one bit away), 16 at
  once; every stored hash within 31 bits comes back with its category and list.
- unblock an image (a reversed decision): BatchWriteItem deleting its 16 items.
- allow a hash (a reversed upload rejection): BatchWriteItem of its 16 items; a look-up reads
  them with the rest.
"""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings


class BlockedHash(Model):
    class Meta:
        table_name = get_settings().blocked_hashes_table
        region = region()
        billing_mode = BILLING_MODE
        # A look-up sends 16 Queries at a time.
        max_pool_connections = 16

    band_key = UnicodeAttribute(hash_key=True)  # "{band:02d}#{value:04x}"
    # "list#{list}#{hash}" | "image#{image_id}" | "allow#{hash}"
    entry_id = UnicodeAttribute(range_key=True)
    pdq = UnicodeAttribute()  # the whole PDQ hash, 64 hex digits
    list_name = UnicodeAttribute()  # the imported list's name, IMAGES_LIST or ALLOWED_LIST
    category = UnicodeAttribute()  # what a rejected upload's owner is told
    image_id = UnicodeAttribute(null=True)  # an image removed or rejected here
    quality = NumberAttribute(null=True)  # PDQ's quality, when the list gives it
    # An allowance: the entry ids of the matches an appeal found false (hash_lists.allow).
    allows = UnicodeSetAttribute(null=True)
    added_at = UTCDateTimeAttribute()
