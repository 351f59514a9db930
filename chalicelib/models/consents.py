"""Consent records: append-only proof that a user accepted an exact terms text.

Access patterns
- a user's consent history, oldest first: Query on `user_id` (export, /me history).
- record a consent: PutItem that must not overwrite (part of the consent transaction).
- after erasure, an anonymous tombstone per consent (no user id) stays as proof that a
  consent to that version existed.

The network address a consent came from is evidence, kept apart in `ConsentEvidence` as a keyed
hash and deleted by DynamoDB TTL after the retention period, so consent records themselves are
never updated in place.
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


class ConsentRecord(Model):
    class Meta:
        table_name = get_settings().consents_table
        region = region()
        billing_mode = BILLING_MODE

    user_id = UnicodeAttribute(hash_key=True)
    # "<accepted_at ISO>#v<version>": sorts a history by time, unique per acceptance.
    consent_id = UnicodeAttribute(range_key=True)
    terms_version = NumberAttribute()
    terms_sha256 = UnicodeAttribute()
    accepted_at = UTCDateTimeAttribute()
    user_agent_family = UnicodeAttribute(null=True)


class ConsentTombstone(Model):
    """What erasure leaves of a consent: the version and hash, never who gave it."""

    class Meta:
        table_name = get_settings().consents_table
        region = region()
        billing_mode = BILLING_MODE

    user_id = UnicodeAttribute(hash_key=True)  # "anonymous#<random>"
    consent_id = UnicodeAttribute(range_key=True)
    terms_version = NumberAttribute()
    terms_sha256 = UnicodeAttribute()
    accepted_on = UnicodeAttribute()  # the date only


class ConsentEvidence(Model):
    class Meta:
        table_name = get_settings().consent_evidence_table
        region = region()
        billing_mode = BILLING_MODE

    user_id = UnicodeAttribute(hash_key=True)
    consent_id = UnicodeAttribute(range_key=True)
    address_hash = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()  # DynamoDB deletes the item after the retention period
