"""Signed review links: sight of one item, for a limited time, without a bearer token.

The token is `<payload>.<signature>`: the payload names the item, the expiry and the key that
signed it; the signature is an HMAC-SHA256 over the payload with a key from settings (the first
signs, all verify, so keys can be rotated). Tampering is checked before expiry, in constant
time, so an expired link reveals nothing a tampered one would not.
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


@dataclass(frozen=True)
class Grant:
    image_id: str
    expires_at: float
    minted_by: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def _sign(key: str, payload: bytes) -> bytes:
    return hmac.new(key.encode(), PURPOSE + payload, hashlib.sha256).digest()


def mint(image_id: str, minted_by: str, seconds: int | None = None) -> tuple[str, float]:
    key = secrets.signing_keys()[0]
    expires = clock.epoch() + (seconds or get_settings().review_link_seconds)
    payload = json.dumps(
        {"i": image_id, "e": int(expires), "k": _key_id(key), "b": minted_by},
        separators=(",", ":"),
    ).encode()
    return f"{_b64(payload)}.{_b64(_sign(key, payload))}", float(int(expires))


def verify(token: str) -> Grant:
    """The grant in a token; 403 invalid_signature if forged or altered, 410 if expired."""
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
    return Grant(image_id, float(expires), str(claims.get("b", "")))
