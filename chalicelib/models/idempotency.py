"""What an Idempotency-Key names: for a caller and their key, the request it was first used
with (as a hash) and the generation it made. Kept 24 hours by TTL; the id is a hash, so it
holds nothing that names the caller and erasure has nothing to find.

Access patterns
- claim a key: PutItem inside the submit's transaction (with the generation and its quota
  unit), on the condition that no record is there or the one there has expired, so the key
  costs the submit no request of its own.
- a claim refused: GetItem by `id`, to tell a retry from the same key reused for another body.
"""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings


class IdempotencyRecord(Model):
    class Meta:
        table_name = get_settings().idempotency_table
        region = region()
        billing_mode = BILLING_MODE

    id = UnicodeAttribute(hash_key=True)  # sha256 of the caller and their key
    request_sha256 = UnicodeAttribute()  # the request as the caller sent it
    generation_id = UnicodeAttribute()
    expiration = TTLAttribute()
