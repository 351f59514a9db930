"""Personal API keys: what authenticates a key in one read, and the owner's list of keys.

One table, three kinds of item under the same (pk, sk) key schema:
- the credential: pk "hash#<hex SHA-256 of the whole key>", sk "credential" → owner, key id,
  scopes, last use. Authenticating a key is one consistent GetItem on the hash of what was
  sent; a revoked key's item is gone, so the next request after the DELETE finds nothing.
- the owner's entry: pk "user#<user id>", sk "key#<key id>" → name, prefix, scopes, created,
  and the credential's hash (so revoking by id, and erasure, find the credential to delete).
- the owner's count: pk "user#<user id>", sk "count" → how many keys the user holds; each
  create adds one under the condition that the cap is not reached, in the same transaction as
  the two items, so concurrent creates cannot pass the cap.

Access patterns
- authenticate a key: GetItem (hash#…, credential), consistent.
- note a key's use: UpdateItem of last_used_at, only if the item exists (a revoked key is not
  written back into existence) and its last use is older than a minute (at most one write a
  minute per key, whatever the request rate).
- the caller's keys: Query (user#…), consistent; their last uses: one BatchGetItem of the
  credentials.
- create / revoke: one TransactWriteItems (count, entry, credential).
- erasure: Query (user#…), BatchWriteItem deletes of every entry, credential and the count.

The secret itself is never stored: only its SHA-256 (chalicelib/services/api_keys.py says why a
fast hash is right for a 256-bit random secret).
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

CREDENTIAL = "credential"
COUNT = "count"
ENTRY_PREFIX = "key#"


def credential_pk(key_hash: str) -> str:
    return f"hash#{key_hash}"


def owner_pk(user_id: str) -> str:
    return f"user#{user_id}"


def entry_sk(key_id: str) -> str:
    return f"{ENTRY_PREFIX}{key_id}"


class ApiKeyCredential(Model):
    """A live key as authentication sees it: found by the hash of the key sent."""

    class Meta:
        table_name = get_settings().api_keys_table
        region = region()
        billing_mode = BILLING_MODE

    pk = UnicodeAttribute(hash_key=True)  # hash#<sha256 hex>
    sk = UnicodeAttribute(range_key=True, default=CREDENTIAL)
    user_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    scopes = UnicodeSetAttribute()
    last_used_at = UTCDateTimeAttribute(null=True)


class ApiKeyEntry(Model):
    """One of the owner's keys as GET /me/api-keys lists it (never the key itself)."""

    class Meta:
        table_name = get_settings().api_keys_table
        region = region()
        billing_mode = BILLING_MODE

    pk = UnicodeAttribute(hash_key=True)  # user#<user id>
    sk = UnicodeAttribute(range_key=True)  # key#<key id>
    key_id = UnicodeAttribute()
    name = UnicodeAttribute()
    prefix = UnicodeAttribute()
    scopes = UnicodeSetAttribute()
    key_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class ApiKeyCount(Model):
    """How many keys the owner holds: the cap's guard."""

    class Meta:
        table_name = get_settings().api_keys_table
        region = region()
        billing_mode = BILLING_MODE

    pk = UnicodeAttribute(hash_key=True)  # user#<user id>
    sk = UnicodeAttribute(range_key=True, default=COUNT)
    keys = NumberAttribute(default=0)
