"""The local stand-in's instances: one model-server process per SageMaker Model that serves.

A model with an archive (ModelDataUrl) is downloaded and unpacked once into the local state
folder, as SageMaker unpacks it into /opt/ml/model, and served by the same container code
(`python -m functions.inference.serve --model-dir DIR`) with the model's Environment. A model
without one (the bootstrap model) is the container the stack already runs. Servers are leased
per invocation, so a retired one stops only after its last invocation ends.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.config import free_port

ROOT = Path(__file__).resolve().parent.parent


class ModelStartError(RuntimeError):
    """The model's container did not come up; the message carries its last words."""


@dataclass
class Server:
    process: subprocess.Popen[bytes] | None
    url: str
    leases: int = 0
    retired: bool = False

    def alive(self) -> bool:
        return self.process is None or self.process.poll() is None


class Fleet:
    def __init__(self, sagemaker: Any, s3: Any, folder: Path, default_url: str) -> None:
        self.sagemaker, self.s3 = sagemaker, s3
        self.folder = folder
        self.default_url = default_url.rstrip("/")
        self.start_timeout = float(os.environ.get("OBJEKTIFY_LOCAL_MODEL_START_SECONDS", "300"))
        self.servers: dict[str, Server] = {}
        self.lock = threading.Lock()
        self.starting: dict[str, threading.Lock] = {}

    def start(self, model: str) -> str:
        """The URL of a running server for `model`, starting one if there is none."""
        with self.lock:
            gate = self.starting.setdefault(model, threading.Lock())
        with gate:
            with self.lock:
                server = self.servers.get(model)
                if server is not None and server.alive():
                    server.retired = False
                    return server.url
            server = self._launch(model)
            with self.lock:
                self.servers[model] = server
            return server.url

    @contextmanager
    def lease(self, model: str) -> Iterator[str]:
        url = self.start(model)
        with self.lock:
            server = self.servers[model]
            server.leases += 1
        try:
            yield url
        finally:
            with self.lock:
                server.leases -= 1
            self._reap()

    def retire(self, models: set[str]) -> None:
        """Stop serving `models` once nothing uses them (the blue fleet after a deployment)."""
        with self.lock:
            for model in models:
                if model in self.servers:
                    self.servers[model].retired = True
        self._reap()

    def stop_all(self) -> None:
        with self.lock:
            servers, self.servers = list(self.servers.values()), {}
        for server in servers:
            _stop(server)

    def _reap(self) -> None:
        with self.lock:
            done = [m for m, s in self.servers.items() if s.retired and s.leases == 0]
            stopped = [self.servers.pop(m) for m in done]
        for server in stopped:
            _stop(server)

    def _launch(self, model: str) -> Server:
        container = self.sagemaker.describe_model(ModelName=model).get("PrimaryContainer") or {}
        url = container.get("ModelDataUrl")
        if not url:
            return Server(None, self.default_url)
        directory = self._unpacked(url)
        port = free_port()
        log = self.folder / f"{model}.log"
        env = {**os.environ, **(container.get("Environment") or {})}
        env["OBJEKTIFY_BIND_HOST"] = "127.0.0.1"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "functions.inference.serve",
                    "--model-dir",
                    str(directory),
                    "--port",
                    str(port),
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = Server(process, f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log.read_text(errors="replace").strip().splitlines()[-3:]
                raise ModelStartError(
                    f"the container exited ({process.returncode}): {' '.join(tail)}"
                )
            try:
                with urllib.request.urlopen(f"{server.url}/ping", timeout=2):
                    print(f"[sagemaker] model {model} serving on {server.url}", flush=True)
                    return server
            except OSError:
                time.sleep(0.2)
        _stop(server)
        raise ModelStartError(f"the container did not answer /ping in {self.start_timeout:.0f} s")

    def _unpacked(self, url: str) -> Path:
        """The archive at `url` unpacked under the state folder, once per archive content."""
        bucket, _, key = url.removeprefix("s3://").partition("/")
        etag = self.s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
        directory = self.folder / hashlib.sha256(f"{url}#{etag}".encode()).hexdigest()[:16]
        if (directory / ".ready").exists():
            return directory / "model"
        partial = directory.with_name(directory.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)  # what a crash mid-unpack left
        partial.mkdir(parents=True)
        archive = partial / "model.tar.gz"
        self.s3.download_file(bucket, key, str(archive))
        with tarfile.open(archive) as tar:
            tar.extractall(partial / "model", filter="data")
        archive.unlink()
        (partial / ".ready").touch()
        partial.replace(directory)
        return directory / "model"


def _stop(server: Server) -> None:
    if server.process is None or server.process.poll() is not None:
        return
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
