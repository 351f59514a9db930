"""The local stand-in for API Gateway's WebSocket API (issue 18).

Clients connect to ws://127.0.0.1:PORT/?token=...; each connection is given an id and the
app's own WebSocket handlers (the Lambda handlers Chalice registered for `$connect`, `$default`
and `$disconnect`, found by their handler strings as Lambda finds them) are called in this
process with API Gateway-shaped events. A `$connect` that answers other than 2xx refuses the
upgrade with that status, as API Gateway does. The `@connections` management API the app
pushes through (boto3's `apigatewaymanagementapi`, reached via
AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI) is served on a second, plain HTTP port:
POST /@connections/{id} sends the body down that socket, GET describes it, DELETE closes it;
an unknown id is 410 GoneException.

The query string carries the access token, so neither it nor the path is ever logged here
(websockets' own logger is silenced for the same reason).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import importlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from local.config import LoopbackServer

API_ID = "local"
STAGE = "local"
SEND_TIMEOUT = 10.0


@dataclass
class Connection:
    """One client: its id, its socket once the upgrade is done, what was sent before that."""

    id: str
    connected_at: float
    source_ip: str
    user_agent: str
    socket: ServerConnection | None = None
    early: list[str | bytes] = field(default_factory=list)
    last_active_at: float = 0.0


def connection_id() -> str:
    """An id shaped as API Gateway's (12 base64 characters ending in `=`)."""
    return base64.b64encode(secrets.token_bytes(8)).decode()[:11] + "="


def _millis(moment: float) -> int:
    return int(moment * 1000)


def _handler(handlers: dict[str, Any], route: str) -> Callable[[dict[str, Any], Any], Any] | None:
    config = handlers.get(route)
    if config is None:
        return None
    module, _, name = config.handler_string.rpartition(".")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


class Gateway:
    """The connections and the app's handlers; shared by the socket server and the
    management API (which runs in its own threads)."""

    def __init__(self, handlers: dict[str, Any], domain: str) -> None:
        self.connect = _handler(handlers, "$connect")
        self.message = _handler(handlers, "$default")
        self.disconnect = _handler(handlers, "$disconnect")
        self.domain = domain
        self.connections: dict[str, Connection] = {}
        self.by_socket: dict[int, Connection] = {}
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None

    # Events as API Gateway sends them ----------------------------------------------------

    def event(self, conn: Connection, route: str, **extra: Any) -> dict[str, Any]:
        now = time.time()
        kinds = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}
        return {
            "requestContext": {
                "routeKey": route,
                "eventType": kinds.get(route, "MESSAGE"),
                "messageDirection": "IN",
                "stage": STAGE,
                "apiId": API_ID,
                "domainName": self.domain,
                "connectionId": conn.id,
                "connectedAt": _millis(conn.connected_at),
                "requestId": secrets.token_hex(8),
                "extendedRequestId": secrets.token_hex(8),
                "requestTimeEpoch": _millis(now),
                "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
            },
            "isBase64Encoded": False,
            **extra,
        }

    @staticmethod
    def call(handler: Callable[[dict[str, Any], Any], Any] | None, event: dict[str, Any]) -> int:
        if handler is None:
            return 200
        try:
            answer = handler(event, None)
        except Exception as exc:  # a Lambda that raised: API Gateway answers 500
            print(f"[websocket] handler failed: {type(exc).__name__}", flush=True)
            return 500
        status = answer.get("statusCode", 200) if isinstance(answer, dict) else 200
        return int(status)

    # The socket side (asyncio) ------------------------------------------------------------

    async def process_request(self, socket: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        multi = parse_qs(parts.query)
        address = socket.remote_address[0] if socket.remote_address else "127.0.0.1"
        conn = Connection(
            connection_id(), time.time(), address, request.headers.get("User-Agent", "")
        )
        headers = {name: value for name, value in request.headers.raw_items()}
        event = self.event(
            conn,
            "$connect",
            headers=headers,
            multiValueHeaders={name: [value] for name, value in headers.items()},
            queryStringParameters=query or None,
            multiValueQueryStringParameters=multi or None,
        )
        with self.lock:
            self.connections[conn.id] = conn  # messages pushed during $connect wait for it
        status = await asyncio.to_thread(self.call, self.connect, event)
        if not 200 <= status < 300:
            with self.lock:
                self.connections.pop(conn.id, None)
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = "Refused"
            body = json.dumps({"message": reason}).encode()
            return Response(
                status,
                reason,
                Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))]),
                body,
            )
        self.by_socket[id(socket)] = conn
        return None

    async def serve_socket(self, socket: ServerConnection) -> None:
        conn = self.by_socket.pop(id(socket))
        with self.lock:
            conn.socket = socket
            early, conn.early = conn.early, []
        conn.last_active_at = time.time()
        try:
            for data in early:
                await socket.send(data)
            async for data in socket:
                conn.last_active_at = time.time()
                body = data if isinstance(data, str) else data.decode(errors="replace")
                event = self.event(conn, "$default", body=body, messageId=secrets.token_hex(6))
                await asyncio.to_thread(self.call, self.message, event)
        except ConnectionClosed:
            pass
        finally:
            with self.lock:
                self.connections.pop(conn.id, None)
            code = socket.close_code or 1006
            event = self.event(
                conn,
                "$disconnect",
                disconnectStatusCode=code,
                disconnectReason=socket.close_reason or "",
            )
            await asyncio.to_thread(self.call, self.disconnect, event)

    # The management API (threads) ---------------------------------------------------------

    def post(self, connection: str, data: bytes) -> bool:
        with self.lock:
            conn = self.connections.get(connection)
            if conn is None:
                return False
            try:
                message: str | bytes = data.decode()
            except UnicodeDecodeError:
                message = data
            if conn.socket is None:
                conn.early.append(message)
                return True
            socket = conn.socket
        assert self.loop is not None
        future = asyncio.run_coroutine_threadsafe(socket.send(message), self.loop)
        try:
            future.result(timeout=SEND_TIMEOUT)
        except (ConnectionClosed, TimeoutError):
            return False
        return True

    def describe(self, connection: str) -> dict[str, Any] | None:
        with self.lock:
            conn = self.connections.get(connection)
        if conn is None:
            return None
        return {
            "connectedAt": _iso(conn.connected_at),
            "lastActiveAt": _iso(conn.last_active_at or conn.connected_at),
            "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
        }

    def close(self, connection: str) -> bool:
        with self.lock:
            conn = self.connections.get(connection)
            socket = conn.socket if conn is not None else None
        if conn is None:
            return False
        if socket is not None and self.loop is not None:
            future = asyncio.run_coroutine_threadsafe(socket.close(1000, "Going away"), self.loop)
            with contextlib.suppress(TimeoutError):
                future.result(timeout=SEND_TIMEOUT)
        return True


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")


def management_handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _connection(self) -> str | None:
            path = urlsplit(self.path).path
            prefix = path.find("/@connections/")
            if prefix < 0:
                return None
            return unquote(path[prefix + len("/@connections/") :])

        def _answer(self, status: int, body: Any = None, error: str | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if error:
                self.send_header("x-amzn-ErrorType", error)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _gone(self) -> None:
            self._answer(410, {"message": None}, "GoneException")

        def do_GET(self) -> None:
            if urlsplit(self.path).path == "/ping":
                self._answer(200, {"status": "ok", "connections": len(gateway.connections)})
                return
            connection = self._connection()
            described = gateway.describe(connection) if connection else None
            if described is None:
                self._gone()
            else:
                self._answer(200, described)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            connection = self._connection()
            if connection is None:
                self._answer(404, {"message": "Not Found"}, "NotFoundException")
            elif len(body) > 128 * 1024:
                self._answer(413, {"message": "Payload too large"}, "PayloadTooLargeException")
            elif gateway.post(connection, body):
                self._answer(200)
            else:
                self._gone()

        def do_DELETE(self) -> None:
            connection = self._connection()
            if connection and gateway.close(connection):
                self._answer(204)
            else:
                self._gone()

        def log_message(self, format: str, *args: Any) -> None:
            return  # paths hold connection ids only, but nothing here needs a log line

    return Handler


async def run(gateway: Gateway, host: str, port: int) -> None:
    gateway.loop = asyncio.get_running_loop()
    quiet = logging.getLogger("websockets.local")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    async with serve(
        gateway.serve_socket,
        host,
        port,
        process_request=gateway.process_request,
        logger=quiet,
        server_header=None,
        ping_interval=None,  # API Gateway does not ping clients; an idle socket stays open
        max_size=128 * 1024,  # API Gateway's frame limit
    ) as server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description="The local WebSocket API stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--management-port", type=int, required=True)
    args = parser.parse_args()
    logging.getLogger("websockets").setLevel(logging.CRITICAL)

    import app as app_module

    gateway = Gateway(app_module.app.websocket_handlers, f"{args.host}:{args.port}")
    management = LoopbackServer((args.host, args.management_port), management_handler(gateway))
    threading.Thread(target=management.serve_forever, daemon=True).start()
    print(
        f"WebSocket API on ws://{args.host}:{args.port}, "
        f"@connections on http://{args.host}:{args.management_port}",
        flush=True,
    )
    try:
        asyncio.run(run(gateway, args.host, args.port))
    except KeyboardInterrupt:
        pass
    finally:
        management.shutdown()


if __name__ == "__main__":
    main()
