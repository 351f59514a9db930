"""The WebSocket API's handlers (app.py → chalicelib/api/live.py), called as API Gateway calls
them: a connect is accepted only with a valid access token in its query string, a ping is
answered with a pong through the @connections API, a disconnect forgets the connection. The
user pool's keys and the @connections API are served over real HTTP; tables are in-process AWS."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.services import live
from chalicelib.settings import get_settings
from tests.unit.test_live_push import Gateway, messages
from tests.unit.test_live_push import gateway as gateway

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_live"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(key: Any = KEY, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "sub": "alice",
        "client_id": "web",
        "token_use": "access",
        "iat": now,
        "exp": now + 600,
    }
    body.update(claims)
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def signed_in(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    public = jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
    gateway.jwks = {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}
    endpoint = get_settings().websocket_management_url
    monkeypatch.setenv("OBJEKTIFY_COGNITO_ISSUER", ISSUER)
    monkeypatch.setenv("OBJEKTIFY_COGNITO_JWKS_URL", f"{endpoint}/jwks.json")
    monkeypatch.setenv("OBJEKTIFY_COGNITO_CLIENT_IDS", "web")
    get_settings.cache_clear()
    yield gateway
    get_settings.cache_clear()


def event(route: str, connection_id: str, **extra: Any) -> dict[str, Any]:
    kinds = {"$connect": "CONNECT", "$default": "MESSAGE", "$disconnect": "DISCONNECT"}
    return {
        "requestContext": {
            "routeKey": route,
            "eventType": kinds[route],
            "connectionId": connection_id,
            "domainName": "127.0.0.1",
            "stage": "local",
            "apiId": "local",
        },
        "isBase64Encoded": False,
        **extra,
    }


def connect(connection_id: str, query: dict[str, str] | None) -> int:
    from app import websocket_connect

    answer = websocket_connect(event("$connect", connection_id, queryStringParameters=query), None)
    return int(answer["statusCode"])


def test_a_valid_token_opens_a_connection_for_its_user(signed_in: Gateway) -> None:
    assert connect("c1", {"token": token()}) == 200
    assert connect("c2", {"token": token()}) == 200

    assert sorted(live.connections_of("alice")) == ["c1", "c2"]


@pytest.mark.parametrize(
    "query",
    [
        None,
        {},
        {"token": ""},
        {"token": "not-a-token"},
        {"token": token(exp=int(time.time()) - 60)},
        {"token": token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))},
        {"token": token(token_use="id")},
        {"token": "objk_" + "A" * 43},  # an API key is not a credential on a WebSocket
    ],
    ids=["no query", "no token", "empty", "garbage", "expired", "stranger", "id token", "api key"],
)
def test_a_connect_without_a_valid_token_is_refused_and_stores_nothing(
    signed_in: Gateway, query: dict[str, str] | None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert connect("c1", query) == 401

    assert live.connections_of("alice") == []
    printed = capsys.readouterr()
    for value in (query or {}).values():
        if value:
            assert value not in printed.out + printed.err


def test_a_ping_is_answered_with_a_pong_on_that_connection_only(signed_in: Gateway) -> None:
    from app import websocket_message

    signed_in.open.update({"c1": [], "c2": []})
    connect("c1", {"token": token()})
    connect("c2", {"token": token()})

    for body in ("ping", '{"type": "ping"}', '{"type": "other"}', "{not json"):
        assert websocket_message(event("$default", "c1", body=body), None)["statusCode"] == 200

    assert messages(signed_in, "c1") == [{"type": "pong"}, {"type": "pong"}]
    assert messages(signed_in, "c2") == []


def test_a_disconnect_forgets_the_connection(signed_in: Gateway) -> None:
    from app import websocket_disconnect

    connect("c1", {"token": token()})
    connect("c2", {"token": token()})

    assert websocket_disconnect(event("$disconnect", "c1"), None)["statusCode"] == 200

    assert live.connections_of("alice") == ["c2"]
