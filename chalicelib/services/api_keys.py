"""Personal API keys: a script's credential, acting as its owner within the key's scopes.

A key is `objk_` followed by 43 characters of `secrets.token_urlsafe(32)`: 256 random bits. It
is shown once, by the answer that creates it; the service keeps only its SHA-256. A slow,
salted password hash (bcrypt, scrypt, Argon2) exists to make guessing a *low-entropy* secret
from its hash expensive; against 256 random bits no guessing is possible either way, so a
fast hash loses nothing, lets every request check its key without a deliberate delay, and
(being unsalted and deterministic) is itself the lookup key: one GetItem finds the key, with
no list of candidates to compare. The first characters (`prefix`) are shown in lists so a
person can tell their keys apart; they leave more than 200 bits unknown.

Which routes a key may call, and that it never acts with its owner's roles, is decided where
tokens are verified (services/identity.py). A key's requests then go through the same checks
as a token's: consent, restrictions, quota and the erasure marker.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PynamoDBException, TransactWriteError

from chalicelib.adapters import clock
from chalicelib.adapters.ids import is_id, new_id
from chalicelib.models.api_keys import (
    ENTRY_PREFIX,
    ApiKeyCount,
    ApiKeyCredential,
    ApiKeyEntry,
    credential_pk,
    entry_sk,
    owner_pk,
)
from chalicelib.models.base import refused_by_condition, transaction
from chalicelib.models.users import UserProfile
from chalicelib.observability import logger
from chalicelib.services import accounts
from chalicelib.services.errors import NotFound, TooManyApiKeys, Unauthorized
from chalicelib.settings import get_settings

KEY_PREFIX = "objk_"
GENERATE, READ = "generate", "read"
SCOPES = (GENERATE, READ)
PREFIX_LENGTH = len(KEY_PREFIX) + 8
# What `secrets.token_urlsafe(32)` writes: 43 characters of the URL-safe base64 alphabet.
_KEY_PATTERN = re.compile(r"objk_[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class NewKey:
    """A key as its creation answers it: the only time `key` is ever shown."""

    key_id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    key: str
    created_at: datetime


@dataclass(frozen=True)
class KeyHolder:
    """Who a verified key acts for, and what it may do."""

    user_id: str
    key_id: str
    scopes: frozenset[str]


def looks_like_key(credential: str) -> bool:
    """Whether a bearer credential is meant as an API key (rather than a token)."""
    return credential.startswith(KEY_PREFIX)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(user_id: str, name: str, scopes: list[str]) -> NewKey:
    """A new key for the user: consented and in good standing, like the other things a user
    sets up (a webhook, a display name), and within the cap on keys per user."""
    from chalicelib.services import consent

    profile = accounts.load_profile(user_id, fresh=True)
    accounts.require_unrestricted(profile)
    consent.require_consent(profile)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    digest = key_hash(key)
    now = clock.now()
    kept_scopes = tuple(scope for scope in SCOPES if scope in scopes)
    entry = ApiKeyEntry(
        owner_pk(user_id),
        entry_sk(new_id()),
        name=name,
        prefix=key[:PREFIX_LENGTH],
        scopes=set(kept_scopes),
        key_hash=digest,
        created_at=now,
    )
    entry.key_id = entry.sk.removeprefix(ENTRY_PREFIX)
    credential = ApiKeyCredential(
        credential_pk(digest), user_id=user_id, key_id=entry.key_id, scopes=set(kept_scopes)
    )
    count = ApiKeyCount(owner_pk(user_id))
    limit = get_settings().api_key_limit
    try:
        with transaction() as tx:
            # Still in good standing and not erased while the key was being made.
            tx.condition_check(UserProfile, user_id, condition=accounts.active_condition(now))
            tx.update(
                count,
                [ApiKeyCount.keys.add(1)],
                condition=ApiKeyCount.keys.does_not_exist() | (ApiKeyCount.keys < limit),
            )
            tx.save(entry, condition=ApiKeyEntry.pk.does_not_exist())
            tx.save(credential, condition=ApiKeyCredential.pk.does_not_exist())
    except TransactWriteError as exc:
        if tx.refused(exc, count):
            raise TooManyApiKeys(details={"limit": limit}) from exc
        if tx.refused(exc, (UserProfile, user_id, None)):
            # The standing changed meanwhile: answer as the checks above would now.
            accounts.require_unrestricted(accounts.load_profile(user_id, fresh=True))
        raise
    return NewKey(entry.key_id, name, entry.prefix, kept_scopes, key, now)


def shown_once(made: NewKey) -> dict[str, Any]:
    """The answer to the create: the only place the key ever appears."""
    return {
        "id": made.key_id,
        "name": made.name,
        "prefix": made.prefix,
        "scopes": list(made.scopes),
        "created_at": clock.iso(made.created_at),
        "key": made.key,
    }


def listed(user_id: str) -> list[dict[str, Any]]:
    """The user's keys, oldest first, with their last use; never a key or its hash."""
    entries = list(
        ApiKeyEntry.query(
            owner_pk(user_id), ApiKeyEntry.sk.startswith(ENTRY_PREFIX), consistent_read=True
        )
    )
    last_used: dict[str, datetime | None] = {}
    if entries:
        keys = [(credential_pk(e.key_hash), ApiKeyCredential.sk.default) for e in entries]
        for found in ApiKeyCredential.batch_get(keys, consistent_read=True):
            last_used[found.key_id] = found.last_used_at
    entries.sort(key=lambda e: (e.created_at, e.key_id))
    return [_shown(e, last_used.get(e.key_id)) for e in entries]


def _shown(entry: ApiKeyEntry, last_used_at: datetime | None) -> dict[str, Any]:
    return {
        "id": entry.key_id,
        "name": entry.name,
        "prefix": entry.prefix,
        "scopes": sorted(entry.scopes or ()),
        "created_at": clock.iso(entry.created_at),
        "last_used_at": clock.iso(last_used_at) if last_used_at is not None else None,
    }


def revoke(user_id: str, key_id: str) -> None:
    """Delete one of the user's keys: the next request with it finds no credential (401).
    Another user's key, or one already revoked, is 404."""
    if not is_id(key_id):
        raise NotFound()
    try:
        entry = ApiKeyEntry.get(owner_pk(user_id), entry_sk(key_id), consistent_read=True)
    except ApiKeyEntry.DoesNotExist as exc:
        raise NotFound() from exc
    try:
        with transaction() as tx:
            tx.delete(entry, condition=ApiKeyEntry.pk.exists())
            tx.delete(ApiKeyCredential(credential_pk(entry.key_hash)))
            tx.update(ApiKeyCount(owner_pk(user_id)), [ApiKeyCount.keys.add(-1)])
    except TransactWriteError as exc:
        if refused_by_condition(exc):
            raise NotFound() from exc  # revoked by a concurrent request
        raise


def remove_all(user_id: str) -> None:
    """Every key of the user, its credential and the count (erasure); again is harmless."""
    entries = list(ApiKeyEntry.query(owner_pk(user_id), consistent_read=True))
    with ApiKeyEntry.batch_write() as batch:
        for entry in entries:
            if entry.sk.startswith(ENTRY_PREFIX):
                batch.delete(ApiKeyCredential(credential_pk(entry.key_hash)))
            batch.delete(ApiKeyEntry(entry.pk, entry.sk))


def exported(user_id: str) -> list[dict[str, Any]]:
    """What the data export holds: the keys as the user's list shows them (no hashes)."""
    return listed(user_id)


def verify(key: str) -> KeyHolder:
    """The key's owner and scopes, from one consistent read of its credential; anything
    else is 401. Notes the use at most once per `api_key_touch_seconds`."""
    if not _KEY_PATTERN.fullmatch(key):
        raise Unauthorized()
    try:
        credential = ApiKeyCredential.get(
            credential_pk(key_hash(key)), ApiKeyCredential.sk.default, consistent_read=True
        )
    except ApiKeyCredential.DoesNotExist as exc:
        logger.info("api key refused", extra={"reason": "unknown or revoked"})
        raise Unauthorized() from exc
    _note_use(credential)
    return KeyHolder(credential.user_id, credential.key_id, frozenset(credential.scopes or ()))


def _note_use(credential: ApiKeyCredential) -> None:
    """Write the key's last use when the one stored is older than the interval: one write a
    minute per key at most, and none that would bring a key revoked meanwhile back."""
    now = clock.now()
    interval = timedelta(seconds=get_settings().api_key_touch_seconds)
    last = credential.last_used_at
    if last is not None and now - last < interval:
        return
    try:
        credential.update(
            actions=[ApiKeyCredential.last_used_at.set(now)],
            condition=ApiKeyCredential.pk.exists()
            & (
                ApiKeyCredential.last_used_at.does_not_exist()
                | (ApiKeyCredential.last_used_at < now - interval)
            ),
        )
    except PynamoDBException as exc:
        if not refused_by_condition(exc):
            # Bookkeeping: a throttled write must not refuse a request the key may make.
            logger.warning("api key use not noted", extra={"reason": str(exc)})
