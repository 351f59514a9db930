"""A fault-injecting proxy between the AWS clients and the emulator, on loopback.

For the services named in its fault file it answers a share of requests with throttling
errors or 5xx in each service's own protocol, adds latency, or forwards a request and then
drops the connection before the answer (the request was applied; the client does not know).
The fault file (JSON) is re-read every second, so a test can turn faults on and off:
  {"services": ["dynamodb", "s3", "sqs", "sns"], "throttle_rate": 0.05, "error_rate": 0.05,
   "drop_after_apply_rate": 0.0, "latency_ms": 0, "seed": 1}
An optional "operations" list narrows the faults to requests whose X-Amz-Target names one of
those operations (e.g. "TransactWriteItems"), so a test can fail one kind of write on purpose.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local.config import LoopbackServer

SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([a-z0-9-]+)/aws4_request")
QUERY_SCOPE = re.compile(r"X-Amz-Credential=[^&]*%2F\d{8}%2F[^&%]+%2F([a-z0-9-]+)%2Faws4_request")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


class Faults:
    def __init__(self, path: Path | None) -> None:
        self.path, self.config, self.loaded = path, {}, 0.0
        self.lock = threading.Lock()
        self.rng = random.Random(1)
        self.counts: dict[str, int] = {}

    def current(self) -> dict[str, Any]:
        with self.lock:
            if self.path and time.monotonic() - self.loaded > 1:
                self.loaded = time.monotonic()
                try:
                    config = json.loads(self.path.read_text())
                except (OSError, ValueError):
                    config = {}
                if config.get("seed") != self.config.get("seed"):
                    self.rng = random.Random(config.get("seed", 1))
                self.config = config
            return self.config

    def draw(self, service: str, operation: str = "") -> str | None:
        config = self.current()
        if service not in config.get("services", []):
            return None
        operations = config.get("operations")
        if operations and operation not in operations:
            return None
        with self.lock:
            roll = self.rng.random()
        for kind in ("throttle", "error", "drop_after_apply"):
            rate = float(config.get(f"{kind}_rate", 0))
            if roll < rate:
                with self.lock:
                    self.counts[f"{service}:{kind}"] = self.counts.get(f"{service}:{kind}", 0) + 1
                return kind
            roll -= rate
        return None


def service_of(headers: Any, path: str) -> str:
    found = SCOPE.search(headers.get("Authorization", "")) or QUERY_SCOPE.search(path)
    return found.group(1) if found else "unknown"


def fault_answer(service: str, kind: str) -> tuple[int, str, bytes]:
    """A throttling error or a 5xx as the service itself would send it."""
    if kind == "error":
        return 503, "text/plain", b"Service Unavailable"
    if service == "s3":
        return (
            503,
            "application/xml",
            (
                b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown"
                b"</Code><Message>Please reduce your request rate.</Message></Error>"
            ),
        )
    if service == "sns":
        return (
            400,
            "text/xml",
            (
                b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                b"<Message>Rate exceeded</Message></Error></ErrorResponse>"
            ),
        )
    prefix = "com.amazonaws.dynamodb.v20120810#" if service == "dynamodb" else "com.amazonaws.sqs#"
    code = "ThrottlingException"
    body = json.dumps({"__type": prefix + code, "message": "Rate exceeded"}).encode()
    return 400, "application/x-amz-json-1.0", body


def make_handler(upstream: str, faults: Faults) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            service = service_of(self.headers, self.path)
            latency = float(faults.current().get("latency_ms", 0))
            if latency and service in faults.current().get("services", []):
                time.sleep(latency / 1000)
            operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
            kind = faults.draw(service, operation)
            if kind in ("throttle", "error"):
                status, content_type, data = fault_answer(service, kind)
                self._send(status, {"Content-Type": content_type}, data)
                return
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=70)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            if kind == "drop_after_apply":
                self.close_connection = True
                self.connection.shutdown(2)  # applied upstream; the client never hears of it
                return
            out = {
                k: v
                for k, v in answer.getheaders()
                if k.lower() not in HOP_BY_HOP | {"content-length"}
            }
            self._send(answer.status, out, data)

        def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _proxy

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Inject AWS faults between clients and the emulator."
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--faults", type=Path)
    args = parser.parse_args()
    faults = Faults(args.faults)
    server = LoopbackServer(("127.0.0.1", args.port), make_handler(args.upstream, faults))
    print(f"fault proxy on http://127.0.0.1:{args.port} -> {args.upstream}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
