"""The local SageMaker: one loopback server for both of SageMaker's faces.

- the runtime (`POST /endpoints/{name}/async-invocations`, InvokeEndpointAsync): `Runtime` in
  `local/sagemaker_async.py`; clients reach it through `AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`;
- the control plane (`POST /` with `X-Amz-Target: SageMaker.*`): `ControlPlane` in
  `local/sagemaker_control.py`, moto's plus UpdateEndpoint; through `AWS_ENDPOINT_URL_SAGEMAKER`.

They share the endpoints' state and the model servers (`local/model_fleet.py`), as SageMaker's
control plane and runtime share the endpoint's instances.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

import boto3

from local.config import REGION, LoopbackServer, local_dir
from local.model_fleet import Fleet
from local.sagemaker_async import ACCOUNT, Runtime
from local.sagemaker_control import ControlPlane

STATE_FILE = "sagemaker-endpoints.json"


def make_handler(runtime: Runtime, control: ControlPlane) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            skip = {"content-length", "transfer-encoding", "connection", "date", "server"}
            for name, value in headers.items():
                if name.lower() not in skip:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _answer(
            self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            self._send(
                status,
                {"Content-Type": "application/json", **(headers or {})},
                json.dumps(body).encode(),
            )

        def do_GET(self) -> None:
            if self.path == "/ping":
                self._answer(200, {"status": "ok"})
            else:
                self._answer(404, {"message": "not found"})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = self.headers.get("X-Amz-Target", "")
            if target.startswith("SageMaker."):
                self._send(*control.handle(target, dict(self.headers.items()), body))
                return
            parts = self.path.split("?")[0].strip("/").split("/")
            if len(parts) != 3 or parts[0] != "endpoints" or parts[2] != "async-invocations":
                self._answer(
                    404,
                    {"message": "unknown operation"},
                    {"x-amzn-ErrorType": "UnknownOperationException"},
                )
                return
            self._invoke_async(unquote(parts[1]))

        def _invoke_async(self, endpoint: str) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            config = runtime.config_of(endpoint)
            if config is None:
                self._answer(
                    400,
                    {"message": f"Endpoint {endpoint} of account {ACCOUNT} not found."},
                    {"x-amzn-ErrorType": "ValidationError"},
                )
                return
            if not headers.get("x-amzn-sagemaker-inputlocation"):
                self._answer(
                    400,
                    {"message": "InputLocation is required."},
                    {"x-amzn-ErrorType": "ValidationError"},
                )
                return
            out = runtime.invoke(endpoint, config, headers)
            self._answer(
                202,
                {"InferenceId": out["InferenceId"]},
                {
                    "X-Amzn-SageMaker-OutputLocation": out["OutputLocation"],
                    "X-Amzn-SageMaker-FailureLocation": out["FailureLocation"],
                },
            )

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Local SageMaker: async runtime and control plane."
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--container-url", required=True, help="the bootstrap model's container")
    args = parser.parse_args()
    moto = os.environ["AWS_ENDPOINT_URL"]

    def aws(service: str) -> Any:  # always the emulator itself, never this server
        return boto3.client(service, endpoint_url=moto, region_name=REGION)

    folder = local_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    fleet = Fleet(aws("sagemaker"), aws("s3"), folder, args.container_url)
    control = ControlPlane(
        moto, aws("sagemaker"), aws("cloudwatch"), fleet, local_dir() / STATE_FILE
    )
    runtime = Runtime(control, fleet, aws("s3"), aws("sns"), local_dir() / "sagemaker-async")
    resumed = runtime.resume()
    if resumed:
        print(f"local SageMaker: {resumed} accepted jobs resumed from the spool", flush=True)
    server = LoopbackServer(("127.0.0.1", args.port), make_handler(runtime, control))

    def stop(*_: object) -> None:
        fleet.stop_all()  # the model servers are this process's children
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        f"local SageMaker (runtime and control plane) on http://127.0.0.1:{args.port}", flush=True
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
