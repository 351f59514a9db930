"""A stand-in for the SageMaker async inference runtime (moto's InvokeEndpointAsync runs nothing).

It honours the InvokeEndpointAsync contract: answers 202 with the InferenceId and the output
and failure locations at once, then, in the background, reads the request payload from S3,
calls the model container's `/invocations`, writes the answer to the endpoint config's async
S3 output path (or the failure to its failure path) and publishes SageMaker's success or error
notification to the config's SNS topics. The endpoint, the config it serves and that config's
model are read from the control plane (`local/sagemaker_control.py`) when each job runs, and the
job goes to that model's server (`local/model_fleet.py`): after a publish, the next invocation
is painted by the new model.

As SageMaker does, it sends a model's server up to the config's
`ClientConfig.MaxConcurrentInvocationsPerInstance` invocations at once (the container batches
them), times the instances the local variant stands for (`OBJEKTIFY_LOCAL_INFERENCE_WORKERS`,
default 1); further jobs wait their turn, oldest first.

Accepted jobs are durable, as in SageMaker's internal queue: each is written to a spool folder
before the 202 and removed once its notification is out, and a stand-in that starts again (after
a crash or a restart of the whole stack) runs what its spool still holds. A job interrupted
after its output was written runs again: the same output and notification once more, which the
app takes as a duplicate delivery.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.config import REGION
from local.model_fleet import Fleet
from local.sagemaker_control import ControlPlane

ACCOUNT = "123456789012"
# Jobs waiting for a turn hold a thread each up to this many; beyond it they wait in the pool's
# own queue, in order. Above any concurrency a local endpoint config asks for.
DISPATCH_THREADS = 64


@dataclass(frozen=True)
class AsyncConfig:
    model: str
    output_path: str
    failure_path: str
    success_topic: str | None
    error_topic: str | None
    max_concurrency: int


@dataclass
class Turns:
    """The invocations one model's server is given at once: at most `limit`, first come first
    served (a plain semaphore may wake a later job first)."""

    running: int = 0
    queue: deque[object] = field(default_factory=deque)
    changed: threading.Condition = field(default_factory=threading.Condition)

    @contextmanager
    def turn(self, limit: int) -> Iterator[None]:
        ticket = object()
        with self.changed:
            self.queue.append(ticket)
            self.changed.wait_for(lambda: self.queue[0] is ticket and self.running < limit)
            self.queue.popleft()
            self.running += 1
            self.changed.notify_all()
        try:
            yield
        finally:
            with self.changed:
                self.running -= 1
                self.changed.notify_all()


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _now() -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        + f".{int(time.time() * 1000) % 1000:03d}Z"
    )


class Runtime:
    def __init__(self, control: ControlPlane, fleet: Fleet, s3: Any, sns: Any, spool: Path) -> None:
        self.control, self.fleet = control, fleet
        self.spool = spool
        spool.mkdir(parents=True, exist_ok=True)
        self.sagemaker: Any = control.sagemaker
        self.s3, self.sns = s3, sns
        self.instances = int(os.environ.get("OBJEKTIFY_LOCAL_INFERENCE_WORKERS", "1"))
        self.pool = ThreadPoolExecutor(max_workers=DISPATCH_THREADS)
        self._turns: dict[str, Turns] = {}
        self._configs: dict[str, tuple[float, AsyncConfig]] = {}
        self._lock = threading.Lock()

    def config_of(self, endpoint: str) -> AsyncConfig | None:
        """The async config and model of the config the endpoint serves now."""
        try:
            name = self.control.serving_config(endpoint)
        except self.sagemaker.exceptions.ClientError:
            return None
        with self._lock:
            cached = self._configs.get(name)
            if cached:  # endpoint configs never change once created
                return cached[1]
        config = self.sagemaker.describe_endpoint_config(EndpointConfigName=name)
        async_config = config.get("AsyncInferenceConfig") or {}
        output = async_config.get("OutputConfig") or {}
        topics = output.get("NotificationConfig") or {}
        result = AsyncConfig(
            model=config["ProductionVariants"][0]["ModelName"],
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
            self._configs[name] = (time.monotonic(), result)
        return result

    def invoke(self, endpoint: str, config: AsyncConfig, headers: dict[str, str]) -> dict[str, str]:
        inference_id = headers.get("x-amzn-sagemaker-inference-id") or str(uuid.uuid4())
        filename = headers.get("x-amzn-sagemaker-filename") or f"{inference_id}.out"
        extension = (headers.get("x-amzn-sagemaker-s3outputpathextension") or "").strip("/")
        output_dir = f"{config.output_path}/{extension}" if extension else config.output_path
        job: dict[str, Any] = {
            "endpoint": endpoint,
            "inference_id": inference_id,
            "input": headers["x-amzn-sagemaker-inputlocation"],
            "output": f"{output_dir}/{filename}",
            "failure": f"{config.failure_path}/{inference_id}-error.out",
            "content_type": headers.get("x-amzn-sagemaker-content-type", "application/json"),
            "accept": headers.get("x-amzn-sagemaker-accept", "*/*"),
            "custom_attributes": headers.get("x-amzn-sagemaker-custom-attributes", ""),
            "timeout": int(headers.get("x-amzn-sagemaker-invocationtimeoutseconds") or 900),
            "received": _now(),
        }
        self._spool_path(job).with_suffix(".partial").write_text(json.dumps(job))
        self._spool_path(job).with_suffix(".partial").replace(self._spool_path(job))
        self.pool.submit(self.run, job)
        return {
            "InferenceId": inference_id,
            "OutputLocation": job["output"],
            "FailureLocation": job["failure"],
        }

    def _spool_path(self, job: dict[str, Any]) -> Path:
        return self.spool / f"{uuid.uuid5(uuid.NAMESPACE_URL, job['inference_id'])}.json"

    def resume(self) -> int:
        """Run the jobs a previous stand-in accepted and did not finish, oldest first."""
        jobs = []
        for path in self.spool.glob("*.json"):
            try:
                jobs.append(json.loads(path.read_text()))
            except ValueError:
                path.unlink()  # a file cut short by a crash was never answered with a 202
        for job in sorted(jobs, key=lambda j: str(j["received"])):
            self.pool.submit(self.run, job)
        return len(jobs)

    def run(self, job: dict[str, Any]) -> None:
        try:
            self._run_config(job)
        finally:
            self._spool_path(job).unlink(missing_ok=True)

    def _run_config(self, job: dict[str, Any]) -> None:
        # The config is read when the job runs: a job queued before a deployment finished is
        # served by whichever fleet holds the traffic then, as in SageMaker's internal queue.
        config = self.config_of(job["endpoint"])
        if config is None:
            print(f"[sagemaker-async] {job['inference_id']}: endpoint gone", flush=True)
            return
        with self._lock:
            turns = self._turns.setdefault(config.model, Turns())
        try:
            with (
                turns.turn(config.max_concurrency * self.instances),
                self.fleet.lease(config.model) as url,
            ):
                self._run(job, config, url)
        except Exception as exc:  # the stand-in must never drop a job silently
            print(
                f"[sagemaker-async] {job['inference_id']}: {type(exc).__name__}: {exc}", flush=True
            )
            self._notify(job, config, ok=False, reason=f"InternalServerError: {exc}")

    def _run(self, job: dict[str, Any], config: AsyncConfig, container_url: str) -> None:
        bucket, key = _split(job["input"])
        payload = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        request = urllib.request.Request(
            f"{container_url}/invocations",
            data=payload,
            method="POST",
            headers={
                "Content-Type": job["content_type"],
                "Accept": job["accept"],
                "X-Amzn-SageMaker-Inference-Id": job["inference_id"],
            },
        )
        if job.get("custom_attributes"):
            # As SageMaker does: the caller's CustomAttributes reach the container verbatim.
            request.add_header("X-Amzn-SageMaker-Custom-Attributes", job["custom_attributes"])
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
