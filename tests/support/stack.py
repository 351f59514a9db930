"""Start the whole local stack (`python -m local`) on free ports and stop it afterwards."""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local.config import StackState, free_port
from local.stack import wait_http

ROOT = Path(__file__).resolve().parents[2]
# Every stack a test session started: its log is scanned for secrets when the session ends.
STARTED: list[Path] = []
# Each running stack's log, by its API's URL.
LOGS: dict[str, Path] = {}
# The only settings the model container reads (functions/inference): a stack given none of them
# is served by the session's one container, as `make dev` would start it, instead of loading
# the model again (the slowest part of a stack's start). A stack that sets any gets its own.
CONTAINER_SETTINGS = (
    "OBJEKTIFY_LOCAL_INFERENCE_URL",
    "OBJEKTIFY_MODEL_NAME",
    "OBJEKTIFY_MODEL_VERSION",
    "OBJEKTIFY_MAX_BATCH",
    "OBJEKTIFY_BATCH_WINDOW_MS",
    "OBJEKTIFY_DTYPE",
)


class SharedModel:
    """The model container the session's stacks share, started when a stack first needs it
    (again, should it have died) and stopped when the session ends."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.address = ""

    def url(self) -> str:
        if self.process is None or self.process.poll() is not None:
            port = free_port()
            directory = Path(tempfile.mkdtemp(prefix="objektify-model-"))
            STARTED.append(directory)  # its log is scanned for secrets as the stacks' are
            log = (directory / "stack.log").open("wb")
            self.process = subprocess.Popen(
                [sys.executable, "-m", "functions.inference.serve", "--port", str(port)],
                cwd=ROOT,
                env={
                    k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OBJEKTIFY_"))
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()
            self.address = f"http://127.0.0.1:{port}"
            try:
                wait_http(f"{self.address}/ping", timeout=300, child=self.process)
            except SystemExit as exc:  # how the stack's own wait reports; a test error here
                raise RuntimeError(f"the shared model container did not start: {exc}") from exc
        return self.address

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


MODEL = SharedModel()
atexit.register(MODEL.stop)


@contextmanager
def running_stack(
    directory: Path, extra_env: dict[str, str] | None = None, timeout: float = 120.0
) -> Iterator[StackState]:
    directory.mkdir(parents=True, exist_ok=True)
    STARTED.append(directory)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OBJEKTIFY_"))}
    env.update(
        {
            "OBJEKTIFY_LOCAL_DIR": str(directory),
            "PYTHONUNBUFFERED": "1",
            # The emulator's state is saved when the stack stops; no pauses for checkpoints.
            "OBJEKTIFY_LOCAL_CHECKPOINT_SECONDS": "0",
        }
    )
    env.update(extra_env or {})
    if not any(setting in env for setting in CONTAINER_SETTINGS):
        env["OBJEKTIFY_LOCAL_INFERENCE_URL"] = MODEL.url()
    log = (directory / "stack.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    state_file = directory / "stack.json"
    try:
        deadline = time.monotonic() + timeout
        while not state_file.exists():
            if process.poll() is not None:
                raise RuntimeError(
                    f"local stack exited early:\n{(directory / 'stack.log').read_text()[-4000:]}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError("local stack did not start in time")
            time.sleep(0.2)
        state = StackState.load(directory)
        LOGS[state.api_url] = directory / "stack.log"
        yield state
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def server_errors(state: StackState, most: int = 3) -> str:
    """The last tracebacks in a running stack's log: what a 500 in a test came from."""
    log = LOGS.get(state.api_url)
    if log is None or not log.exists():
        return ""
    lines = log.read_text(errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    return "\n".join("\n".join(lines[i : i + 40]) for i in starts[-most:])
