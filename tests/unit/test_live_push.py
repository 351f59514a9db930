"""Pushing to a user's WebSocket connections (chalicelib/services/live.py) against in-process
AWS for the connections table and a real HTTP @connections endpoint that answers as API
Gateway does: 200 for an open connection, 410 GoneException for a closed one, or a 500."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest

from chalicelib.adapters import connections_api
from chalicelib.models.connections import LiveConnection, connection_pk
from chalicelib.services import live
from chalicelib.settings import get_settings
from tests.support.in_process_aws import aws


class Gateway:
    """The @connections API of a WebSocket API: what each open connection was sent."""

    def __init__(self) -> None:
        self.open: dict[str, list[bytes]] = {}
        self.broken: set[str] = set()
        self.jwks: dict[str, object] = {"keys": []}

    def serve(self) -> ThreadingHTTPServer:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the user pool's signing keys, for the connect tests
                self._answer(200, gateway.jwks, None)

            def do_POST(self) -> None:
                connection_id = unquote(self.path.rsplit("/", 1)[-1])
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if connection_id in gateway.broken:
                    self._answer(500, {"message": "Internal server error"}, "InternalServerError")
                elif connection_id not in gateway.open:
                    self._answer(410, {"message": None}, "GoneException")
                else:
                    gateway.open[connection_id].append(body)
                    self._answer(200, None, None)

            def _answer(self, status: int, body: object, error: str | None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                if error:
                    self.send_header("x-amzn-ErrorType", error)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    gateway = Gateway()
    server = gateway.serve()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with aws():
        monkeypatch.setenv(
            "OBJEKTIFY_WEBSOCKET_MANAGEMENT_URL", f"http://127.0.0.1:{server.server_port}"
        )
        monkeypatch.setenv("OBJEKTIFY_AWS_MAX_ATTEMPTS", "1")
        get_settings.cache_clear()
        connections_api.reset()
        try:
            yield gateway
        finally:
            server.shutdown()
            server.server_close()
            monkeypatch.undo()
            get_settings.cache_clear()
            connections_api.reset()


def messages(gateway: Gateway, connection_id: str) -> list[dict[str, object]]:
    return [json.loads(data) for data in gateway.open[connection_id]]


def test_a_push_reaches_every_connection_of_its_owner_and_no_one_else(gateway: Gateway) -> None:
    for connection_id, owner in (("a1", "alice"), ("a2", "alice"), ("b1", "bob")):
        gateway.open[connection_id] = []
        live.connect(connection_id, owner)

    live.push("alice", {"type": "generation", "generation": {"id": "g1", "status": "queued"}})

    expected = [{"type": "generation", "generation": {"id": "g1", "status": "queued"}}]
    assert messages(gateway, "a1") == expected
    assert messages(gateway, "a2") == expected
    assert messages(gateway, "b1") == []


def test_a_gone_connection_is_forgotten_and_the_others_still_get_the_message(
    gateway: Gateway,
) -> None:
    gateway.open["open"] = []
    live.connect("closed", "alice")  # closed without a disconnect: API Gateway answers 410
    live.connect("open", "alice")

    live.push("alice", {"type": "generation", "generation": {"id": "g1"}})

    assert messages(gateway, "open") == [{"type": "generation", "generation": {"id": "g1"}}]
    assert live.connections_of("alice") == ["open"]
    assert LiveConnection.count(connection_pk("closed")) == 0


def test_a_failing_connection_is_kept_and_does_not_stop_the_rest(gateway: Gateway) -> None:
    gateway.open["fine"] = []
    gateway.open["flaky"] = []
    gateway.broken.add("flaky")
    live.connect("flaky", "alice")
    live.connect("fine", "alice")

    live.push("alice", {"type": "generation"})

    assert messages(gateway, "fine") == [{"type": "generation"}]
    assert sorted(live.connections_of("alice")) == ["fine", "flaky"]


def test_a_disconnect_forgets_only_that_connection(gateway: Gateway) -> None:
    live.connect("c1", "alice")
    live.connect("c2", "alice")

    live.disconnect("c1")
    live.disconnect("never-seen")

    assert live.connections_of("alice") == ["c2"]
    assert LiveConnection.count(connection_pk("c1")) == 0


def test_erasure_forgets_every_connection_of_the_user_and_no_one_elses(gateway: Gateway) -> None:
    for connection_id, owner in (("c1", "alice"), ("c2", "alice"), ("c3", "bob")):
        gateway.open[connection_id] = []
        live.connect(connection_id, owner)

    live.forget_user("alice")
    live.push("alice", {"type": "generation"})

    assert live.connections_of("alice") == []
    assert (
        LiveConnection.count(connection_pk("c1")) + LiveConnection.count(connection_pk("c2")) == 0
    )
    assert messages(gateway, "c1") == [] and messages(gateway, "c2") == []
    assert live.connections_of("bob") == ["c3"]


def test_a_connection_expires_when_api_gateway_would_close_it(gateway: Gateway) -> None:
    live.connect("c1", "alice")

    item = LiveConnection.get(connection_pk("c1"), "owner")
    lifetime = item.expires_at - item.connected_at
    assert lifetime.total_seconds() == pytest.approx(7200, abs=1)


def test_a_user_with_no_connection_costs_one_query_and_no_push(gateway: Gateway) -> None:
    live.push("nobody", {"type": "generation"})

    assert all(sent == [] for sent in gateway.open.values())
