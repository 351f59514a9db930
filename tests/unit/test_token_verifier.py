from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.adapters.token_verifier import KeysUnavailable, TokenInvalid, TokenVerifier

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks() -> dict[str, Any]:
    public = jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
    return {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}


@pytest.fixture
def verifier(monkeypatch: pytest.MonkeyPatch) -> TokenVerifier:
    v = TokenVerifier(ISSUER, "http://keys.invalid/jwks.json", ("client-1",))
    monkeypatch.setattr(v._jwks, "fetch_data", lambda: jwks())
    return v


def token(key: Any = KEY, alg: str = "RS256", kid: str = "k1", **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "sub": "user-1",
        "client_id": "client-1",
        "token_use": "access",
        "iat": now,
        "exp": now + 60,
        "cognito:groups": ["moderators"],
    }
    body.update(claims)
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def test_a_valid_access_token_yields_subject_and_groups(verifier: TokenVerifier) -> None:
    verified = verifier.verify(token())
    assert verified.subject == "user-1"
    assert verified.groups == {"moderators"}


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 3600},
        {"iss": "https://elsewhere"},
        {"client_id": "client-2"},
        {"token_use": "id"},
        {"cognito:groups": "admins"},
    ],
)
def test_bad_claims_are_refused(verifier: TokenVerifier, claims: dict[str, Any]) -> None:
    with pytest.raises(TokenInvalid):
        verifier.verify(token(**claims))


def test_hs256_signed_with_the_public_key_is_refused(verifier: TokenVerifier) -> None:
    forged = jwt.api_jws.PyJWS()
    header = {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "sub": "x",
        "client_id": "client-1",
        "token_use": "access",
        "iat": now,
        "exp": now + 60,
    }
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    secret = json.dumps(jwks()["keys"][0]).encode()
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    del forged
    with pytest.raises(TokenInvalid):
        verifier.verify(f"{signing_input}.{b64(signature)}")


def test_unsigned_token_is_refused(verifier: TokenVerifier) -> None:
    with pytest.raises(TokenInvalid):
        verifier.verify(token(key=None, alg="none"))


def test_unreachable_keys_are_reported_as_unavailable() -> None:
    v = TokenVerifier(ISSUER, "http://127.0.0.1:9/jwks.json", ("client-1",))
    with pytest.raises(KeysUnavailable):
        v.verify(token())


class _JwksServer:
    """A JWKS endpoint on 127.0.0.1 whose key set the test changes, counting its fetches."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.keys: dict[str, Any] = {}
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                body = json.dumps({"keys": list(server.keys.values())}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/jwks.json"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def serve(self, kid: str, key: rsa.RSAPrivateKey) -> None:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        self.keys[kid] = {**public, "kid": kid, "alg": "RS256", "use": "sig"}


@pytest.fixture
def jwks_server() -> Iterator[_JwksServer]:
    server = _JwksServer()
    yield server
    server.http.shutdown()
    server.http.server_close()


def test_a_key_withdrawn_from_the_jwks_is_refused_once_the_cache_lifetime_has_passed(
    jwks_server: _JwksServer,
) -> None:
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks_server.serve("k1", KEY)
    jwks_server.serve("k2", rotated)
    v = TokenVerifier(ISSUER, jwks_server.url, ("client-1",), cache_seconds=1)
    assert v.verify(token()).subject == "user-1"
    del jwks_server.keys["k1"]
    # Within the lifetime the set fetched once is trusted as it was; no fetch per request.
    assert v.verify(token()).subject == "user-1"
    assert jwks_server.fetches == 1
    time.sleep(1.1)
    with pytest.raises(TokenInvalid):
        v.verify(token())
    assert v.verify(token(key=rotated, kid="k2")).subject == "user-1"
    assert jwks_server.fetches == 2
