"""Terms of Service documents and the pointer to the current one (one table, two item kinds);
the privacy policy's documents and pointer too, under the `privacy#` prefix.

Access patterns
- read the current version: GetItem on the pointer (`key = "current"`), then GetItem on the
  document; cached in the process for `terms_cache_seconds`.
- publish a version: one transaction that puts the document (it must not exist) and moves the
  pointer (it must still name the version the publisher saw).
Documents are never changed once written.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings

POINTER_KEY = "current"
# The privacy policy's versions live beside the terms', under this prefix.
PRIVACY_PREFIX = "privacy#"


def document_key(version: int, prefix: str = "") -> str:
    return f"{prefix}v{version}"


def pointer_key(prefix: str = "") -> str:
    return f"{prefix}{POINTER_KEY}"


class TermsDocument(Model):
    class Meta:
        table_name = get_settings().terms_table
        region = region()
        billing_mode = BILLING_MODE

    key = UnicodeAttribute(hash_key=True)
    version = NumberAttribute()
    sha256 = UnicodeAttribute()
    text = UnicodeAttribute()
    published_at = UTCDateTimeAttribute()


class TermsPointer(Model):
    class Meta:
        table_name = get_settings().terms_table
        region = region()
        billing_mode = BILLING_MODE

    key = UnicodeAttribute(hash_key=True, default=POINTER_KEY)
    version = NumberAttribute()
    sha256 = UnicodeAttribute()
