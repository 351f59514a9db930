"""The local SageMaker async stand-in gives a model's server as many invocations at once as the
endpoint config's MaxConcurrentInvocationsPerInstance allows, and no more."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from local.sagemaker_async import Runtime


class SlowModel:
    """A container that takes a moment per invocation and counts how many overlap."""

    def __init__(self) -> None:
        self.now = self.most = self.served = 0
        self.lock = threading.Lock()
        model = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                with model.lock:
                    model.now += 1
                    model.most = max(model.most, model.now)
                time.sleep(0.3)
                with model.lock:
                    model.now -= 1
                    model.served += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "3")
                self.end_headers()
                self.wfile.write(b"png")

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


class World:
    """The control plane, fleet, S3 and SNS the runtime talks to, as plain objects."""

    def __init__(self, model_url: str, concurrency: int) -> None:
        self.outputs: list[str] = []
        self.notices: list[str] = []
        config = {
            "ProductionVariants": [{"ModelName": "tiny"}],
            "AsyncInferenceConfig": {
                "ClientConfig": {"MaxConcurrentInvocationsPerInstance": concurrency},
                "OutputConfig": {
                    "S3OutputPath": "s3://originals/outputs",
                    "NotificationConfig": {"SuccessTopic": "ok", "ErrorTopic": "failed"},
                },
            },
        }
        self.sagemaker = SimpleNamespace(
            exceptions=SimpleNamespace(ClientError=LookupError),
            describe_endpoint_config=lambda EndpointConfigName: config,
        )
        self.control = SimpleNamespace(
            sagemaker=self.sagemaker, serving_config=lambda endpoint: "images-v1"
        )

        @contextmanager
        def lease(model: str) -> Iterator[str]:
            yield model_url

        self.fleet = SimpleNamespace(lease=lease)
        self.s3 = SimpleNamespace(
            get_object=lambda Bucket, Key: {"Body": io.BytesIO(b'{"prompt": "x"}')},
            put_object=lambda Bucket, Key, **_: self.outputs.append(Key),
        )
        self.sns = SimpleNamespace(publish=lambda TopicArn, Message: self.notices.append(TopicArn))


@pytest.mark.parametrize("concurrency", [1, 3])
def test_the_stand_in_sends_as_many_invocations_at_once_as_the_config_allows(
    concurrency: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OBJEKTIFY_LOCAL_INFERENCE_WORKERS", raising=False)
    model = SlowModel()
    world = World(model.url, concurrency)
    runtime = Runtime(world.control, world.fleet, world.s3, world.sns, tmp_path)  # type: ignore[arg-type]
    config = runtime.config_of("images")
    assert config is not None and config.max_concurrency == concurrency
    jobs = 6
    for n in range(jobs):
        headers: dict[str, Any] = {"x-amzn-sagemaker-inputlocation": f"s3://inputs/in/{n}.json"}
        runtime.invoke("images", config, headers)
    deadline = time.monotonic() + 30
    # A job leaves the spool just after its notification.
    while (len(world.notices) < jobs or list(tmp_path.glob("*.json"))) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    model.server.shutdown()
    assert world.notices == ["ok"] * jobs and len(world.outputs) == jobs
    assert model.most == concurrency
    assert not list(tmp_path.glob("*.json"))  # every job left the spool
