"""Signed review links: sight of one item, for a few hours, without a bearer token.

The token is `<payload>.<signature>`: the payload names the item, the link's own id, the
moderator who minted it, when it was minted and when it expires, and the key that signed it;
the signature is an HMAC-SHA256 over the payload with a key from settings (the first signs,
all verify, so keys can be rotated). Tampering is checked before expiry, in constant time, so
an expired link reveals nothing a tampered one would not.

A link lasts `review_link_seconds` (4 hours by default), never more than `MAX_SECONDS`
(8 hours, one working shift), whatever the setting says. A link signed without an id or a
minting time (made before links could be revoked) or for longer than the cap counts as
expired. Revocation (every link of an item minted up to a moment) is the moderation
service's, which holds the item.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from chalicelib.adapters import clock, ids, secrets
from chalicelib.services.errors import InvalidSignature, LinkExpired
from chalicelib.settings import get_settings

PURPOSE = b"review-link\x00"
MAX_TOKEN_CHARS = 512
MAX_SECONDS = 8 * 3600


@dataclass(frozen=True)
class Grant:
    image_id: str
    expires_at: float
    minted_by: str
    link_id: str
    minted_at_ms: int  # epoch milliseconds


@dataclass(frozen=True)
class Minted:
    token: str
    link_id: str
    expires_at: float  # epoch seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def _sign(key: str, payload: bytes) -> bytes:
    return hmac.new(key.encode(), PURPOSE + payload, hashlib.sha256).digest()


def lifetime(seconds: int | None = None) -> int:
    """How long a new link lasts: the setting (or `seconds`), capped at `MAX_SECONDS`."""
    wanted = seconds or get_settings().review_link_seconds
    return max(1, min(wanted, MAX_SECONDS))


def mint(image_id: str, minted_by: str, seconds: int | None = None) -> Minted:
    key = secrets.signing_keys()[0]
    minted_ms = int(clock.epoch() * 1000)
    expires = minted_ms // 1000 + lifetime(seconds)
    link_id = ids.new_id(minted_ms)
    claims = {"i": image_id, "l": link_id, "b": minted_by, "t": minted_ms, "e": expires}
    payload = json.dumps({**claims, "k": _key_id(key)}, separators=(",", ":")).encode()
    return Minted(f"{_b64(payload)}.{_b64(_sign(key, payload))}", link_id, float(expires))


def verify(token: str) -> Grant:
    """The grant in a token; 403 invalid_signature if forged or altered, 410 if expired (or
    made before links carried an id, or for longer than links may last)."""
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise InvalidSignature()
    encoded, signature = token.split(".")
    try:
        payload, mac = _unb64(encoded), _unb64(signature)
        claims = json.loads(payload)
    except ValueError as exc:
        raise InvalidSignature() from exc
    keys = {_key_id(k): k for k in secrets.signing_keys()}
    key = keys.get(str(claims.get("k"))) if isinstance(claims, dict) else None
    if key is None or not hmac.compare_digest(mac, _sign(key, payload)):
        raise InvalidSignature()
    image_id, expires = str(claims.get("i", "")), claims.get("e")
    if not ids.is_id(image_id) or not isinstance(expires, int):
        raise InvalidSignature()
    if clock.epoch() >= expires:
        raise LinkExpired()
    link_id, minted_ms, minted_by = claims.get("l"), claims.get("t"), claims.get("b")
    if not (isinstance(link_id, str) and isinstance(minted_ms, int) and isinstance(minted_by, str)):
        raise LinkExpired("This link was made before links could be revoked; ask for a new one.")
    if expires - minted_ms // 1000 > MAX_SECONDS:
        raise LinkExpired("This link was made to last longer than links may; ask for a new one.")
    return Grant(image_id, float(expires), minted_by, link_id, minted_ms)
