"""A stand-in for the SageMaker async inference runtime (moto's InvokeEndpointAsync runs nothing).

It honours the InvokeEndpointAsync contract: answers 202 with the InferenceId and the output
and failure locations at once, then, in the background, reads the request payload from S3,
calls the model container's `/invocations`, writes the answer to the endpoint config's async
S3 output path (or the failure to its failure path) and publishes SageMaker's success or error
notification to the config's SNS topics. The endpoint and its async config are read from the
SageMaker control plane (the emulator), as the real runtime reads them from the endpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import boto3

from local.config import REGION

ACCOUNT = "123456789012"


@dataclass(frozen=True)
class AsyncConfig:
    output_path: str
    failure_path: str
    success_topic: str | None
    error_topic: str | None
    max_concurrency: int


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _now() -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        + f".{int(time.time() * 1000) % 1000:03d}Z"
    )


class Runtime:
    def __init__(self, container_url: str) -> None:
        self.container_url = container_url.rstrip("/")
        self.sagemaker: Any = boto3.client("sagemaker", region_name=REGION)
        self.s3: Any = boto3.client("s3", region_name=REGION)
        self.sns: Any = boto3.client("sns", region_name=REGION)
        self.pool = ThreadPoolExecutor(
            max_workers=int(os.environ.get("OBJEKTIFY_LOCAL_INFERENCE_WORKERS", "1"))
        )
        self._configs: dict[str, tuple[float, AsyncConfig]] = {}
        self._lock = threading.Lock()

    def config_of(self, endpoint: str) -> AsyncConfig | None:
        with self._lock:
            cached = self._configs.get(endpoint)
            if cached and time.monotonic() - cached[0] < 2:
                return cached[1]
        try:
            described = self.sagemaker.describe_endpoint(EndpointName=endpoint)
        except self.sagemaker.exceptions.ClientError:
            return None
        config = self.sagemaker.describe_endpoint_config(
            EndpointConfigName=described["EndpointConfigName"]
        )
        async_config = config.get("AsyncInferenceConfig") or {}
        output = async_config.get("OutputConfig") or {}
        topics = output.get("NotificationConfig") or {}
        result = AsyncConfig(
            output_path=output["S3OutputPath"].rstrip("/"),
            failure_path=(output.get("S3FailurePath") or output["S3OutputPath"]).rstrip("/"),
            success_topic=topics.get("SuccessTopic"),
            error_topic=topics.get("ErrorTopic"),
            max_concurrency=int(
                (async_config.get("ClientConfig") or {}).get(
                    "MaxConcurrentInvocationsPerInstance", 1
                )
            ),
        )
        with self._lock:
            self._configs[endpoint] = (time.monotonic(), result)
        return result

    def invoke(self, endpoint: str, config: AsyncConfig, headers: dict[str, str]) -> dict[str, str]:
        inference_id = headers.get("x-amzn-sagemaker-inference-id") or str(uuid.uuid4())
        filename = headers.get("x-amzn-sagemaker-filename") or f"{inference_id}.out"
        extension = (headers.get("x-amzn-sagemaker-s3outputpathextension") or "").strip("/")
        output_dir = f"{config.output_path}/{extension}" if extension else config.output_path
        job = {
            "endpoint": endpoint,
            "inference_id": inference_id,
            "input": headers["x-amzn-sagemaker-inputlocation"],
            "output": f"{output_dir}/{filename}",
            "failure": f"{config.failure_path}/{inference_id}-error.out",
            "content_type": headers.get("x-amzn-sagemaker-content-type", "application/json"),
            "accept": headers.get("x-amzn-sagemaker-accept", "*/*"),
            "timeout": int(headers.get("x-amzn-sagemaker-invocationtimeoutseconds") or 900),
            "received": _now(),
        }
        self.pool.submit(self.run, job, config)
        return {
            "InferenceId": inference_id,
            "OutputLocation": job["output"],
            "FailureLocation": job["failure"],
        }

    def run(self, job: dict[str, Any], config: AsyncConfig) -> None:
        try:
            self._run(job, config)
        except Exception as exc:  # the stand-in must never drop a job silently
            print(
                f"[sagemaker-async] {job['inference_id']}: {type(exc).__name__}: {exc}", flush=True
            )
            self._notify(job, config, ok=False, reason=f"InternalServerError: {exc}")

    def _run(self, job: dict[str, Any], config: AsyncConfig) -> None:
        bucket, key = _split(job["input"])
        payload = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        request = urllib.request.Request(
            f"{self.container_url}/invocations",
            data=payload,
            method="POST",
            headers={
                "Content-Type": job["content_type"],
                "Accept": job["accept"],
                "X-Amzn-SageMaker-Inference-Id": job["inference_id"],
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=job["timeout"]) as answer:
                body, content_type = (
                    answer.read(),
                    answer.headers.get("Content-Type", "application/octet-stream"),
                )
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:2000]
            self._put(job["failure"], detail, "application/json")
            self._notify(
                job,
                config,
                ok=False,
                reason=(
                    f"ClientError: Received server error ({exc.code}) from model with message "
                    f'"{detail.decode(errors="replace")}".'
                ),
            )
            return
        except (TimeoutError, OSError) as exc:
            self._put(job["failure"], str(exc).encode(), "text/plain")
            reason = (
                "ModelError: invocation timed out"
                if isinstance(exc, TimeoutError) or "timed out" in str(exc)
                else f"ModelError: container unreachable ({exc})"
            )
            self._notify(job, config, ok=False, reason=reason)
            return
        self._put(job["output"], body, content_type)
        self._notify(job, config, ok=True, content_type=content_type)

    def _put(self, uri: str, body: bytes, content_type: str) -> None:
        bucket, key = _split(uri)
        self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)

    def _notify(
        self,
        job: dict[str, Any],
        config: AsyncConfig,
        ok: bool,
        reason: str = "",
        content_type: str = "",
    ) -> None:
        message: dict[str, Any] = {
            "awsRegion": REGION,
            "eventTime": _now(),
            "receivedTime": job["received"],
            "invocationStatus": "Completed" if ok else "Failed",
            "requestParameters": {
                "accept": job["accept"],
                "contentType": job["content_type"],
                "endpointName": job["endpoint"],
                "inputLocation": job["input"],
            },
            "responseParameters": (
                {"contentType": content_type, "outputLocation": job["output"]}
                if ok
                else {"contentType": "text/plain; charset=utf-8"}
            ),
            "inferenceId": job["inference_id"],
            "eventVersion": "1.0",
            "eventSource": "aws:sagemaker",
            "eventName": "InferenceResult",
        }
        if not ok:
            message["failureReason"] = reason
        topic = config.success_topic if ok else config.error_topic
        if topic:
            self.sns.publish(TopicArn=topic, Message=json.dumps(message))


def make_handler(runtime: Runtime) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(
            self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/ping":
                self._answer(200, {"status": "ok"})
            else:
                self._answer(404, {"message": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            parts = self.path.split("?")[0].strip("/").split("/")
            if len(parts) != 3 or parts[0] != "endpoints" or parts[2] != "async-invocations":
                self._answer(
                    404,
                    {"message": "unknown operation"},
                    {"x-amzn-ErrorType": "UnknownOperationException"},
                )
                return
            endpoint = unquote(parts[1])
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


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # http.server's default backlog of 5 resets bursts


def main() -> None:
    parser = argparse.ArgumentParser(description="Local SageMaker async runtime stand-in.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--container-url", required=True)
    args = parser.parse_args()
    runtime = Runtime(args.container_url)
    server = LoopbackServer(("127.0.0.1", args.port), make_handler(runtime))
    print(f"sagemaker async stand-in on http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
