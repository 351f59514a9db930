"""The table Powertools Idempotency keeps its records in (its default schema: `id`, TTL
`expiration`). Declared as a model so the local stack and the infrastructure create it from
the same definition; the records themselves are written only by Powertools.

Access pattern: GetItem/PutItem/UpdateItem by `id` (a hash of the caller and Idempotency-Key).
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

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute(null=True)
    status = UnicodeAttribute(null=True)
    data = UnicodeAttribute(null=True)
    validation = UnicodeAttribute(null=True)
