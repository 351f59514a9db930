"""The Chalice app on Chalice's local HTTP server, answering as API Gateway would with our
gateway responses: an unknown route is the contract's 404, not API Gateway's default 403.

The same port also serves the web client (`/`, `/app/...`) and its development sign-in
(`local/web.py`); every other path goes to the Chalice app."""

from __future__ import annotations

import argparse
import json
from typing import Any

from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
    ThreadedHTTPServer,
)

from local.web import WebFront


class ContractRequestHandler(ChaliceRequestHandler):
    web: WebFront | None = None

    def _handle(self) -> None:
        web = self.web
        if web is None or not web.handles(self.command, self.path):
            self._generic_handle()
            return
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        answer = web.answer(self.command, self.path, dict(self.headers), body)
        self.send_response(answer.status)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _handle

    def _send_error_response(self, error: LocalGatewayException) -> None:
        # Chalice raises this when no route matches (or its authorizer refuses); the deployed
        # API's gateway responses send the same body (see infra/).
        body = json.dumps(
            {"code": "not_found", "message": "No such route.", "details": {}}
        ).encode()
        self._send_http_response(
            404,
            {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff"},
            body,
        )

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, ...) http.server would answer with its own HTML 501:
        # the app answers it instead, with the contract's 405 on a known route.
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        # The app logs every request as structured JSON already.
        return


class BacklogHTTPServer(ThreadedHTTPServer):
    # http.server's default backlog of 5 resets bursts of connections; API Gateway does not.
    request_queue_size = 256


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the Chalice app locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()

    import app as app_module

    app_obj = app_module.app
    # As chalice's create_local_server does: a thread-local current_request per request thread.
    CustomLocalChalice.__bases__ = (LocalChalice, app_obj.__class__)
    app_obj.__class__ = CustomLocalChalice
    ContractRequestHandler.web = WebFront()
    config = Config.create(chalice_stage="local", app_name="objektify", lambda_timeout=60)
    server = LocalDevServer(
        app_obj,
        config,
        args.host,
        args.port,
        handler_cls=ContractRequestHandler,
        server_cls=BacklogHTTPServer,
    )
    print(f"API and web client on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
