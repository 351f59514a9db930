"""moto's server on loopback: DynamoDB, S3, SQS, SNS, Cognito and the rest, over real HTTP.

With `--state FILE` the emulator's state outlives it: it is loaded from FILE before the first
request, written back every `--checkpoint-seconds` while requests have changed anything, and
written once more when the emulator stops (see local/persistence.py). A checkpoint holds new
requests back until those in flight are answered, so the snapshot is consistent; SQS long polls
are short locally (2 s), so the pause is short too.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from local import dynamodb_isolation, dynamodb_partitions, persistence, stream_iterators

READS = ("GET", "HEAD")


class Gate:
    """A WSGI wrapper that counts requests in flight and can hold new ones back."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.condition = threading.Condition()
        self.in_flight = 0
        self.closed = False
        self.changes = 0  # requests that may have changed state since the last checkpoint

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self.condition:
            while self.closed:
                self.condition.wait()
            self.in_flight += 1
            if environ.get("REQUEST_METHOD") not in READS:
                self.changes += 1
        try:
            # moto answers with a list, never a lazy iterator, so the work is done here.
            return list(self.app(environ, start_response))
        finally:
            with self.condition:
                self.in_flight -= 1
                self.condition.notify_all()

    def quiesced(self, action: Callable[[], None], patience: float = 10.0) -> bool:
        """Run `action` with no request in flight; False if they did not drain in time."""
        with self.condition:
            self.closed = True
            try:
                deadline = time.monotonic() + patience
                while self.in_flight:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self.condition.wait(left)
                self.changes = 0
                action()
                return True
            finally:
                self.closed = False
                self.condition.notify_all()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the AWS emulator on loopback.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, help="keep the state in this file across restarts")
    parser.add_argument(
        "--checkpoint-seconds", type=float, default=30.0, help="0: only when stopping"
    )
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    log = logging.getLogger("emulator")
    logging.basicConfig(level=logging.INFO, format="[emulator] %(message)s")

    if args.state is not None:
        started = time.perf_counter()
        services = persistence.load(args.state)
        if services:
            log.info(
                "state of %d services loaded from %s in %.1f s",
                services,
                args.state,
                time.perf_counter() - started,
            )
    dynamodb_isolation.install()
    dynamodb_partitions.install()
    stream_iterators.install()
    gate = Gate(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        "127.0.0.1", args.port, gate, threaded=True, request_handler=MotoRequestHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Under `make dev` a Ctrl-C reaches every process of the terminal at once; the supervisor
    # stops the emulator last (SIGTERM), after everything that writes to it has stopped.
    signal.signal(signal.SIGINT, signal.SIG_IGN if args.state else lambda *_: stop.set())

    def checkpoint() -> None:
        assert args.state is not None
        persistence.save(args.state)

    every = args.checkpoint_seconds if args.state and args.checkpoint_seconds > 0 else None
    while not stop.wait(every):
        if gate.changes and not gate.quiesced(checkpoint):
            log.warning("checkpoint skipped: requests did not drain")
    server.shutdown()
    if args.state is not None:
        if gate.quiesced(checkpoint, patience=5.0):
            log.info("state saved to %s", args.state)
        else:
            log.warning("state not saved: requests did not drain")


if __name__ == "__main__":
    main()
