"""Terms of Service and the privacy policy: versioned documents identified by the sha256 of
their exact text."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.adapters import clock
from chalicelib.models.base import refused_by_condition, transaction
from chalicelib.models.terms import (
    PRIVACY_PREFIX,
    TermsDocument,
    TermsPointer,
    document_key,
    pointer_key,
)
from chalicelib.services.errors import Conflict, InvalidRequest
from chalicelib.settings import get_settings

FIRST_TERMS = Path(__file__).resolve().parent.parent / "terms" / "v1.md"
FIRST_PRIVACY = Path(__file__).resolve().parent.parent / "terms" / "privacy-v1.md"
MAX_TERMS_CHARS = 100_000


@dataclass(frozen=True)
class Terms:
    version: int
    sha256: str
    published_at: datetime
    text: str

    @property
    def published_at_iso(self) -> str:
        """`published_at` as the API contract writes timestamps."""
        return clock.iso(self.published_at)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _CurrentCache:
    """The current version, held for `terms_cache_seconds` so the consent check reads nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: Terms | None = None
        self._loaded_at = 0.0

    def get(self) -> Terms | None:
        ttl = get_settings().terms_cache_seconds
        with self._lock:
            if self._value is not None and time.monotonic() - self._loaded_at < ttl:
                return self._value
        return None

    def put(self, value: Terms) -> None:
        with self._lock:
            self._value, self._loaded_at = value, time.monotonic()

    def clear(self) -> None:
        with self._lock:
            self._value = None


def _from_document(doc: TermsDocument) -> Terms:
    return Terms(int(doc.version), doc.sha256, doc.published_at, doc.text)


class Documents:
    """A versioned document the service publishes: the Terms of Service, or the privacy
    policy. Versions are never changed once written; publishing moves the pointer."""

    def __init__(self, prefix: str, first_text: Path) -> None:
        self.prefix = prefix
        self.first_text = first_text
        self._cache = _CurrentCache()

    def current(self) -> Terms:
        """The current version; the shipped first one if none is published."""
        cached = self._cache.get()
        if cached is not None:
            return cached
        try:
            pointer = TermsPointer.get(pointer_key(self.prefix), consistent_read=True)
        except DoesNotExist:
            first = self.first_text.read_text(encoding="utf-8")
            current = self._publish(first, expected_version=None)
        else:
            key = document_key(int(pointer.version), self.prefix)
            current = _from_document(TermsDocument.get(key))
        self._cache.put(current)
        return current

    def current_uncached(self) -> Terms:
        self._cache.clear()
        return self.current()

    def publish(self, text: str) -> Terms:
        """Publish a revised text as the next version. Who published it is in the audit log,
        not on the document (it outlives its publisher)."""
        if not text.strip():
            raise InvalidRequest(details={"text": "must not be empty"})
        if len(text) > MAX_TERMS_CHARS:
            raise InvalidRequest(details={"text": f"at most {MAX_TERMS_CHARS} characters"})
        previous = self.current_uncached()
        if previous.sha256 == text_sha256(text):
            raise Conflict("This text is already the current version.")
        published = self._publish(text, expected_version=previous.version)
        self._cache.put(published)
        return published

    def get_version(self, version: int) -> Terms | None:
        try:
            return _from_document(TermsDocument.get(document_key(version, self.prefix)))
        except DoesNotExist:
            return None

    def _publish(self, text: str, expected_version: int | None) -> Terms:
        version = (expected_version or 0) + 1
        doc = TermsDocument(
            document_key(version, self.prefix),
            version=version,
            sha256=text_sha256(text),
            text=text,
            published_at=clock.now(),
        )
        pointer = TermsPointer(pointer_key(self.prefix), version=version, sha256=doc.sha256)
        pointer_condition = (
            TermsPointer.key.does_not_exist()
            if expected_version is None
            else TermsPointer.version == expected_version
        )
        try:
            with transaction() as tx:
                tx.save(doc, condition=TermsDocument.key.does_not_exist())
                tx.save(pointer, condition=pointer_condition)
        except TransactWriteError as exc:
            if not refused_by_condition(exc):
                raise
            # Someone else published at the same moment: whatever they wrote is now current.
            if expected_version is None:
                first = TermsDocument.get(document_key(1, self.prefix), consistent_read=True)
                return _from_document(first)
            raise Conflict("Another version was published at the same time; retry.") from exc
        return _from_document(doc)


TERMS = Documents("", FIRST_TERMS)
# Revising the privacy policy needs no fresh consent (it describes what the terms allow); the
# web client shows its version and date.
PRIVACY = Documents(PRIVACY_PREFIX, FIRST_PRIVACY)


def current_terms() -> Terms:
    """The version every user must have accepted to create."""
    return TERMS.current()


def current_terms_uncached() -> Terms:
    return TERMS.current_uncached()


def publish_terms(text: str) -> Terms:
    """Publish revised terms: from now on every user must accept them."""
    return TERMS.publish(text)


def get_version(version: int) -> Terms | None:
    return TERMS.get_version(version)
