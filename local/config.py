"""Where the local stack keeps its state, and the environment every local process shares."""

from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import asdict, dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path

REGION = "us-east-1"
STATE_FILE = "stack.json"
# Written by `make dev` as it starts (its pid), removed once STATE_FILE is written or it stops.
STARTING_FILE = "starting.pid"


def local_dir() -> Path:
    return Path(os.environ.get("OBJEKTIFY_LOCAL_DIR", ".local")).resolve()


class LoopbackServer(ThreadingHTTPServer):
    """The local stand-ins' HTTP server: a thread per request, and a backlog for bursts
    (http.server's default of 5 resets connections that the real services would accept)."""

    daemon_threads = True
    request_queue_size = 256


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class StackState:
    """What a running local stack tells its clients (`objektify token`, tests, benchmarks)."""

    api_url: str
    aws_endpoint: str
    user_pool_id: str
    client_id: str
    region: str = REGION
    stage: str = "local"
    extra: dict[str, str] = field(default_factory=dict)
    # The WebSocket API's stand-in (local/websocket_gateway.py): what clients connect to.
    websocket_url: str = ""

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(directory / STATE_FILE)

    @classmethod
    def load(cls, directory: Path | None = None) -> StackState:
        path = (directory or local_dir()) / STATE_FILE
        if not path.exists():
            raise SystemExit(f"No local stack state at {path}: start it with `make dev`.")
        return cls(**json.loads(path.read_text()))


def mark_starting(directory: Path) -> None:
    """Tell clients that a stack is starting here, until `StackState.save` or its exit."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / STARTING_FILE).write_text(str(os.getpid()))


def stack_starting(directory: Path) -> bool:
    """Whether a stack is starting here: its marker names a process that still runs (a stack
    killed outright leaves the marker behind, naming a process that is gone)."""
    try:
        pid = int((directory / STARTING_FILE).read_text())
    except (OSError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def secret(directory: Path, name: str) -> str:
    """A random secret kept under the (ignored) local folder, stable across restarts."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def aws_env(endpoint: str) -> dict[str, str]:
    """Credentials and endpoints that point boto3 and PynamoDB at the emulator."""
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",  # the emulator accepts any
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
    }


def app_env(state: StackState, directory: Path) -> dict[str, str]:
    """The settings the app reads in AWS, filled in with the local stack's values."""
    env = aws_env(state.aws_endpoint)
    env.update(
        {
            "OBJEKTIFY_STAGE": state.stage,
            "OBJEKTIFY_COGNITO_ISSUER": (
                f"https://cognito-idp.{state.region}.amazonaws.com/{state.user_pool_id}"
            ),
            "OBJEKTIFY_COGNITO_JWKS_URL": (
                f"{state.aws_endpoint}/{state.user_pool_id}/.well-known/jwks.json"
            ),
            "OBJEKTIFY_COGNITO_CLIENT_IDS": state.client_id,
            "OBJEKTIFY_COGNITO_USER_POOL_ID": state.user_pool_id,
            "OBJEKTIFY_ADDRESS_HASH_KEY": secret(directory, "address-hash-key"),
            "OBJEKTIFY_SIGNING_KEYS": secret(directory, "signing-key"),
            # A developer's own machine may receive webhooks over plain http (AWS: https only).
            "OBJEKTIFY_WEBHOOK_ALLOW_LOOPBACK_HTTP": "true",
            "POWERTOOLS_SERVICE_NAME": "objektify",
            "POWERTOOLS_METRICS_NAMESPACE": "Objektify",
        }
    )
    # The local SageMaker serves the runtime and the control plane (local/sagemaker.py).
    if state.extra.get("sagemaker_url"):
        env["AWS_ENDPOINT_URL_SAGEMAKER"] = state.extra["sagemaker_url"]
        env["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = state.extra["sagemaker_url"]
    return env
