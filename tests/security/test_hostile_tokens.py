"""Hostile bearer tokens over HTTP: every one is refused with the contract's 401 (or 503 when the
keys cannot be fetched), never a 500 and never access."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from pathlib import Path

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization

from local.config import StackState
from tests.security import figures
from tests.support.client import Api, consented, sign_in
from tests.support.stack import running_stack
from tests.support.tokens import (
    claims_for,
    emulator_private_jwk,
    signed_by_emulator,
    signed_by_stranger,
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


def hs256_with_public_key(state: StackState) -> list[str]:
    """The classic algorithm confusion: HMAC keyed with the RSA public key (as JWK JSON and PEM)."""
    import hashlib
    import hmac

    public = jwt.PyJWK(emulator_private_jwk()).key.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwks = requests.get(
        f"{state.aws_endpoint}/{state.user_pool_id}/.well-known/jwks.json", timeout=5
    ).content
    tokens = []
    for secret in (pem, jwks):
        header = {"alg": "HS256", "kid": "dummy", "typ": "JWT"}
        body = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims_for(state, **{'cognito:groups': ['admins']})).encode())}"
        tokens.append(f"{body}.{b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())}")
    return tokens


def attacks(state: StackState) -> dict[str, str]:
    real = sign_in(state).token or ""
    header, payload, signature = real.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged_groups = {**claims, "cognito:groups": ["admins", "moderators"]}
    found = {
        "signed by another key": signed_by_stranger(claims_for(state)),
        "alg none": unsigned({"alg": "none", "typ": "JWT"}, claims_for(state)),
        "alg none, signature kept": unsigned({"alg": "none", "kid": "dummy"}, claims, b"x"),
        "kid not in the JWKS": signed_by_emulator(claims_for(state), kid="elsewhere"),
        "wrong issuer": signed_by_emulator(claims_for(state, iss="https://evil.example/pool")),
        "wrong client id": signed_by_emulator(claims_for(state, client_id="other-client")),
        "id token instead of access": signed_by_emulator(claims_for(state, token_use="id")),
        "expired": signed_by_emulator(claims_for(state, exp=1_600_000_000, iat=1_599_999_000)),
        "not yet valid": signed_by_emulator(claims_for(state, nbf=4_000_000_000)),
        "groups forged in the unsigned part": f"{header}.{b64(json.dumps(forged_groups).encode())}.{signature}",
        "truncated signature": real[:-10],
        "empty": "",
        "garbage": "not-a-token",
    }
    for number, token in enumerate(hs256_with_public_key(state)):
        found[f"HS256 keyed with the public key ({number})"] = token
    return found


def test_hostile_tokens_are_refused_everywhere(security_stack: StackState) -> None:
    accepted: list[str] = []
    tried = 0
    for name, token in attacks(security_stack).items():
        for path in ("/me", "/admin/flags", "/moderation/queue"):
            answer = Api(security_stack).get(path, headers={"Authorization": f"Bearer {token}"})
            tried += 1
            if answer.status_code != 401 or answer.json().get("code") != "unauthorized":
                accepted.append(f"{name} on {path}: {answer.status_code} {answer.text[:120]}")
    figures.add("token attacks", tried, len(accepted))
    print(f"\ntoken attacks: {tried} tried, {len(accepted)} accepted")
    assert accepted == []


def test_when_the_keys_cannot_be_fetched_the_answer_is_503_not_500(tmp_path: Path) -> None:
    env = {"OBJEKTIFY_COGNITO_JWKS_URL": "http://127.0.0.1:9/.well-known/jwks.json"}
    with running_stack(tmp_path / "no-keys", env) as state:
        token = signed_by_emulator(claims_for(state))
        answer = Api(state).get("/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "unavailable"
        assert int(answer.headers["Retry-After"]) > 0
        assert Api(state).get("/gallery").status_code == 200  # the public side keeps working
    figures.add("token attacks", 1, 0)


@pytest.mark.parametrize("scheme", ["Basic dXNlcjpwYXNz", "Bearer", "bearer  ", "Token abc"])
def test_other_authorization_schemes_are_unauthorized(
    security_stack: StackState, scheme: str
) -> None:
    answer = Api(security_stack).get("/me", headers={"Authorization": scheme})
    assert answer.status_code == 401


def test_hostile_api_keys_are_refused(security_stack: StackState) -> None:
    """Made-up, altered, revoked and foreign keys never act; a key's scopes and its owner's
    roles do not stretch: a read key cannot submit, a moderator's key sees no queue."""
    owner = consented(security_stack)
    moderator = consented(security_stack, "moderators")
    stranger = consented(security_stack)

    def key_of(person: Api, scopes: list[str]) -> dict:
        made = person.post("/me/api-keys", json={"name": "attack", "scopes": scopes})
        assert made.status_code == 201, made.text
        return dict(made.json())

    real = key_of(owner, ["generate", "read"])["key"]
    revoked = key_of(owner, ["read"])
    assert owner.delete(f"/me/api-keys/{revoked['id']}").status_code == 204
    flipped = real[:-1] + ("A" if real[-1] != "A" else "B")
    refused: dict[str, str] = {
        "made up, the right shape": "objk_" + "A" * 43,
        "made up, random": "objk_" + secrets.token_urlsafe(32),
        "too short": real[:-1],
        "too long": real + "A",
        "one character changed": flipped,
        "the prefix only": real[:13],
        "revoked": revoked["key"],
        "upper-cased scheme prefix": "OBJK_" + real[5:],
        "the key's SHA-256 instead of the key": hashlib.sha256(real.encode()).hexdigest(),
        "objk_ alone": "objk_",
    }
    accepted: list[str] = []
    tried = 0
    for name, key in refused.items():
        for method, path in (
            ("GET", "/me"),
            ("POST", "/generations"),
            ("GET", "/moderation/queue"),
        ):
            answer = Api(security_stack).request(
                method,
                path,
                json={"prompt": "a lamp", "steps": 1} if method == "POST" else None,
                headers={"Authorization": f"Bearer {key}"},
            )
            tried += 1
            if answer.status_code != 401 or answer.json().get("code") != "unauthorized":
                accepted.append(f"{name} on {method} {path}: {answer.status_code}")

    # A real key, used beyond what it is: another user's things, its missing scope, a role.
    private = owner.post("/generations", json={"prompt": "my own", "steps": 1}).json()["id"]
    strangers_key = Api(security_stack, token=key_of(stranger, ["generate", "read"])["key"])
    reader = Api(security_stack, token=key_of(owner, ["read"])["key"])
    moderators_key = Api(security_stack, token=key_of(moderator, ["generate", "read"])["key"])
    overreach = {
        "another user's key on the owner's generation": (
            strangers_key.get(f"/generations/{private}"),
            404,
        ),
        "a read key submitting": (
            reader.post("/generations", json={"prompt": "a lamp", "steps": 1}),
            403,
        ),
        "a moderator's key on the moderation queue": (moderators_key.get("/moderation/queue"), 403),
        "a moderator's key deciding": (
            moderators_key.post(
                f"/moderation/images/{private}/decision", json={"action": "remove", "reason": "x"}
            ),
            403,
        ),
        "a key making a key": (
            reader.post("/me/api-keys", json={"name": "more", "scopes": ["generate"]}),
            403,
        ),
    }
    for name, (answer, want) in overreach.items():
        tried += 1
        if answer.status_code != want:
            accepted.append(f"{name}: {answer.status_code} {answer.text[:120]}")
    figures.add("API key attacks", tried, len(accepted))
    print(f"\nAPI key attacks: {tried} tried, {len(accepted)} accepted")
    assert accepted == []
    assert owner.get(f"/generations/{private}").status_code == 200


def test_hostile_tokens_are_refused_at_the_websocket_connect(security_stack: StackState) -> None:
    """The same attacks, and personal API keys (never a credential there), in the `token` query
    parameter of a WebSocket connect: the upgrade is refused and no connection is stored."""
    from urllib.parse import quote

    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    from tests.support.aws import client, name

    owner = consented(security_stack)
    key = owner.post("/me/api-keys", json={"name": "socket", "scopes": ["generate", "read"]})
    assert key.status_code == 201, key.text
    tokens = {
        **attacks(security_stack),
        "a real personal API key": key.json()["key"],
        "a made-up API key": "objk_" + "A" * 43,
        "a bearer header's value": f"Bearer {owner.token}"[:-3],
    }
    accepted: list[str] = []
    for attack, token in tokens.items():
        url = f"{security_stack.websocket_url}/?token={quote(token, safe='')}"
        try:
            with connect(url, open_timeout=30, close_timeout=5):
                accepted.append(f"{attack}: the socket opened")
        except InvalidStatus as refused:
            if refused.response.status_code != 401:
                accepted.append(f"{attack}: {refused.response.status_code}")
    stored = client(security_stack, "dynamodb").scan(
        TableName=name(security_stack, "connections"), ConsistentRead=True
    )["Items"]
    figures.add("token attacks on the WebSocket connect", len(tokens), len(accepted))
    print(f"\nWebSocket connect attacks: {len(tokens)} tried, {len(accepted)} accepted")
    assert accepted == []
    assert stored == []
