"""Opaque, tamper-proof page cursors: the position, HMAC-signed with a key from settings.

The first key in `signing_keys` signs; every key verifies, so keys can be rotated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from chalicelib.adapters import secrets
from chalicelib.services.errors import InvalidCursor

_MAC_BYTES = 16
MAX_CURSOR_CHARS = 2048


def _keys() -> tuple[bytes, ...]:
    keys = secrets.signing_keys()
    if not keys:
        raise RuntimeError("OBJEKTIFY_SIGNING_KEYS is not set")
    return tuple(k.encode() for k in keys)


def _mac(key: bytes, purpose: str, payload: bytes) -> bytes:
    return hmac.new(key, purpose.encode() + b"\x00" + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode(position: dict[str, Any], purpose: str) -> str:
    """A cursor for `position`, valid only for the list named by `purpose`."""
    payload = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    token = _mac(_keys()[0], purpose, payload) + payload
    return base64.urlsafe_b64encode(token).rstrip(b"=").decode()


def decode(cursor: str, purpose: str) -> dict[str, Any]:
    """The position in a cursor; `InvalidCursor` if it was modified, forged or is malformed."""
    if not cursor or len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError as exc:
        raise InvalidCursor() from exc
    # The last character's unused bits decode the same either way: only the one spelling
    # this service writes is accepted, so any modified cursor is refused.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != cursor:
        raise InvalidCursor()
    mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if len(mac) != _MAC_BYTES or not any(
        hmac.compare_digest(mac, _mac(key, purpose, payload)) for key in _keys()
    ):
        raise InvalidCursor()
    try:
        position = json.loads(payload)
    except ValueError as exc:
        raise InvalidCursor() from exc
    if not isinstance(position, dict):
        raise InvalidCursor()
    return position


def page_limit(raw: str | None, default: int = 24, maximum: int = 100) -> int:
    from chalicelib.services.errors import InvalidRequest

    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise InvalidRequest(details={"limit": f"an integer from 1 to {maximum}"})
    return int(raw)
