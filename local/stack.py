"""`make dev`: the whole system on one machine, as one process tree, until Ctrl-C.

Children: the AWS emulator, the Chalice app on its local server, the event pump, the local
SageMaker (async runtime and control plane, with the model servers of published models as its
own children) and the inference container of the bootstrap model. A child that dies is started
again, as Lambda would start a fresh instance.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from local.config import (
    STARTING_FILE,
    StackState,
    app_env,
    aws_env,
    free_port,
    local_dir,
    mark_starting,
)

ROOT = Path(__file__).resolve().parent.parent
AWS_STATE = "aws-state.pickle"  # the emulator's snapshot (local/persistence.py)


def wait_http(
    url: str, timeout: float = 60.0, child: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and child.poll() is not None:
            raise SystemExit(f"{url}: the process serving it exited with {child.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {url}")


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(self.argv, env=self.env, cwd=ROOT)

    def backoff(self) -> float:
        """A child that keeps dying right after start is retried ever more slowly."""
        if time.monotonic() - self.started_at > 30:
            self.restarts = 0
        return min(30.0, 0.5 * 2 ** min(self.restarts, 6))


@dataclass
class Supervisor:
    children: list[Child] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    pid_file: Path | None = None  # {name: pid} of the children now running

    def start(self, name: str, module: str, args: list[str], env: dict[str, str]) -> Child:
        child = Child(name, [sys.executable, "-m", module, *args], env)
        child.start()
        self.children.append(child)
        self._write_pids()
        return child

    def _write_pids(self) -> None:
        if self.pid_file is None:
            return
        pids = {c.name: c.process.pid for c in self.children if c.process is not None}
        partial = self.pid_file.with_suffix(".partial")
        partial.write_text(json.dumps(pids))
        partial.replace(self.pid_file)

    def watch(self) -> None:
        """Restart a child that died, until asked to stop."""
        while not self.stopping.wait(0.5):
            for child in self.children:
                if child.process is not None and child.process.poll() is not None:
                    delay = child.backoff()
                    child.restarts += 1
                    print(
                        f"[stack] {child.name} exited ({child.process.returncode}); "
                        f"restarting in {delay:.1f}s",
                        flush=True,
                    )
                    if self.stopping.wait(delay):
                        return
                    child.start()
                    self._write_pids()

    def stop(self) -> None:
        """Stop the children one by one, newest first: the pump and the app before the local
        SageMaker (which finishes the job it is running), that before the model container, and
        the emulator last, once nothing writes to it, so that the state it saves holds every
        write."""
        self.stopping.set()
        order = [c for c in reversed(self.children) if c.name != "emulator"]
        order += [c for c in self.children if c.name == "emulator"]
        for child in order:
            if child.process is None or child.process.poll() is not None:
                continue
            child.process.terminate()
            try:
                child.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run Objektify locally.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("OBJEKTIFY_API_PORT", 8000)))
    parser.add_argument("--aws-port", type=int, default=0, help="emulator port (0: any free)")
    args = parser.parse_args()

    directory = local_dir()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "stack.json").unlink(missing_ok=True)
    aws_state = directory / AWS_STATE
    if not aws_state.exists():
        # The emulator starts empty, so what a previous run recorded beside it is void.
        (directory / "sagemaker-endpoints.json").unlink(missing_ok=True)
        shutil.rmtree(directory / "sagemaker-async", ignore_errors=True)
    supervisor = Supervisor(pid_file=directory / "children.json")

    def shutdown(*_: object) -> None:
        supervisor.stopping.set()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)

    # Settings given explicitly win over the stack's own wiring (tests point things elsewhere).
    explicit = {k: v for k, v in os.environ.items() if k.startswith("OBJEKTIFY_")}
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # Local defaults that differ from AWS: a CPU model paints fewer steps by default, failed
    # messages come back sooner, the sweeper runs more often. Any can be overridden.
    local_defaults = {
        "OBJEKTIFY_DEFAULT_STEPS": "4",
        "OBJEKTIFY_QUEUE_VISIBILITY_SECONDS": "5",
        "OBJEKTIFY_QUEUED_DEADLINE_SECONDS": "120",
        "OBJEKTIFY_SCANNING_DEADLINE_SECONDS": "60",
        "OBJEKTIFY_START_RETRY_SECONDS": "10",
        "OBJEKTIFY_LOCAL_SCHEDULE_SECONDS": "10",
    }
    base_env = local_defaults | base_env
    try:
        mark_starting(directory)
        # The model container needs nothing of AWS: it loads while the emulator is prepared.
        container_url = os.environ.get("OBJEKTIFY_LOCAL_INFERENCE_URL")
        container = None
        if not container_url:
            container_port = free_port()
            container_url = f"http://127.0.0.1:{container_port}"
            container = supervisor.start(
                "inference",
                "functions.inference.serve",
                ["--port", str(container_port)],
                base_env | explicit,
            )
        aws_port = args.aws_port or free_port()
        endpoint = f"http://127.0.0.1:{aws_port}"
        persisting = ["--state", str(aws_state), "--checkpoint-seconds"]
        persisting.append(os.environ.get("OBJEKTIFY_LOCAL_CHECKPOINT_SECONDS", "30"))
        emulator = supervisor.start(
            "emulator",
            "local.emulator",
            ["--port", str(aws_port), *persisting],
            base_env | aws_env(endpoint),
        )
        wait_http(f"{endpoint}/moto-api/data.json", child=emulator.process)
        os.environ.update(base_env | aws_env(endpoint))
        from local.bootstrap import bootstrap

        pool_id, client_id = bootstrap(endpoint)
        state = StackState(
            api_url=f"http://127.0.0.1:{args.port}",
            aws_endpoint=endpoint,
            user_pool_id=pool_id,
            client_id=client_id,
            extra={"dir": str(directory)},
        )
        env = base_env | app_env(state, directory) | explicit
        faults = os.environ.get("OBJEKTIFY_LOCAL_FAULTS")
        if faults:
            # The app, the pump and the async stand-in reach AWS through the fault proxy.
            proxy_port = free_port()
            proxy_url = f"http://127.0.0.1:{proxy_port}"
            supervisor.start(
                "fault-proxy",
                "local.fault_proxy",
                ["--port", str(proxy_port), "--upstream", endpoint, "--faults", faults],
                base_env,
            )
            wait_http(f"{proxy_url}/moto-api/data.json")
            env["AWS_ENDPOINT_URL"] = proxy_url
            state.extra["fault_proxy"] = proxy_url

        runtime_port = free_port()
        runtime_url = f"http://127.0.0.1:{runtime_port}"
        runtime = supervisor.start(
            "sagemaker",
            "local.sagemaker",
            ["--port", str(runtime_port), "--container-url", container_url],
            env,
        )
        env["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = runtime_url
        env["AWS_ENDPOINT_URL_SAGEMAKER"] = runtime_url
        state.extra.update(
            {
                "runtime_url": runtime_url,
                "sagemaker_url": runtime_url,
                "container_url": container_url,
            }
        )
        # The WebSocket API's stand-in: clients connect to one port, the app pushes through
        # the @connections API on the other, as boto3 reaches every other service here.
        websocket_port, management_port = free_port(), free_port()
        management_url = f"http://127.0.0.1:{management_port}"
        state.websocket_url = f"ws://127.0.0.1:{websocket_port}"
        env["AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"] = management_url
        env.setdefault("OBJEKTIFY_WEBSOCKET_URL", state.websocket_url)
        websocket = supervisor.start(
            "websocket",
            "local.websocket_gateway",
            ["--port", str(websocket_port), "--management-port", str(management_port)],
            env,
        )
        state.extra["websocket_management_url"] = management_url
        api = supervisor.start("api", "local.api_server", ["--port", str(args.port)], env)
        if os.environ.get("OBJEKTIFY_LOCAL_PUMP", "1") != "0":  # tests may drive events by hand
            supervisor.start("pump", "local.pump", [], env)
        wait_http(f"{runtime_url}/ping", child=runtime.process)
        if container is not None:
            wait_http(f"{container_url}/ping", timeout=300, child=container.process)
        wait_http(f"{state.api_url}/health", child=api.process)
        wait_http(f"{management_url}/ping", child=websocket.process)
        state.save(directory)
        (directory / STARTING_FILE).unlink(missing_ok=True)
        print(
            f"\nObjektify is running.\n  API:          {state.api_url}\n"
            f"  WebSocket:    {state.websocket_url}\n"
            f"  AWS emulator: {endpoint}\n  Get a token:  .venv/bin/objektify token alice\n"
            f"  Local data:   {directory} (kept across restarts; `make reset` wipes it)\n"
            "Ctrl-C stops it.\n",
            flush=True,
        )
        supervisor.watch()
    finally:
        (directory / STARTING_FILE).unlink(missing_ok=True)  # stopping, no longer starting
        supervisor.stop()
        (directory / "stack.json").unlink(missing_ok=True)
        (directory / "children.json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
