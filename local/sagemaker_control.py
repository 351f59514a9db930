"""The SageMaker control plane, locally: moto's, plus the UpdateEndpoint that moto lacks.

Every call is passed to the emulator unchanged, except UpdateEndpoint, which this stand-in
carries out with AWS's semantics: the endpoint is `Updating` while the new config's models
start (the old ones keep serving); traffic then moves to them all at once; during the baking
period the deployment policy's auto-rollback alarms are watched in the emulator's CloudWatch;
the endpoint ends `InService` on the new config, or back on the old one with a FailureReason
when the models did not start or an alarm fired. DescribeEndpoint shows all of it. Answers
also lose moto's empty `VpcConfig`/`DataCaptureConfig` objects, which the SageMaker SDK's
typed shapes reject.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from local.model_fleet import Fleet

EMPTY_OBJECTS = ("VpcConfig", "DataCaptureConfig")


@dataclass
class EndpointState:
    """What moto cannot record: the endpoint after an UpdateEndpoint."""

    config: str  # the config DescribeEndpoint names
    serving: str  # the config whose models take the traffic
    status: str = "InService"
    pending: str | None = None
    failure_reason: str | None = None
    last_deployment: dict[str, Any] | None = None
    modified: float = 0.0


def error(status: int, kind: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"__type": kind, "message": message}).encode()
    return status, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": kind}, body


class ControlPlane:
    def __init__(self, moto_url: str, sagemaker: Any, cloudwatch: Any, fleet: Fleet, state: Path):
        self.moto_url = moto_url.rstrip("/")
        self.sagemaker, self.cloudwatch, self.fleet = sagemaker, cloudwatch, fleet
        self.state_file = state
        self.bake_cap = float(os.environ.get("OBJEKTIFY_LOCAL_BAKE_SECONDS", "1"))
        self.lock = threading.Lock()
        self.endpoints: dict[str, EndpointState] = self._load()

    # What the runtime asks ------------------------------------------------------------------

    def serving_config(self, endpoint: str) -> str:
        with self.lock:
            if endpoint in self.endpoints:
                return self.endpoints[endpoint].serving
        return str(self.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"])

    def models_of(self, config: str) -> set[str]:
        described = self.sagemaker.describe_endpoint_config(EndpointConfigName=config)
        return {v["ModelName"] for v in described["ProductionVariants"]}

    # The HTTP face ----------------------------------------------------------------------------

    def handle(
        self, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        operation = target.rpartition(".")[2]
        if operation == "UpdateEndpoint":
            return self.update_endpoint(json.loads(body or b"{}"))
        status, out_headers, out = self._forward(headers, body)
        if status == 200 and operation.startswith(("Describe", "List")):
            out = json.dumps(self._rewrite(operation, json.loads(out))).encode()
        if status == 200 and operation in ("CreateEndpoint", "DeleteEndpoint"):
            with self.lock:
                self.endpoints.pop(json.loads(body)["EndpointName"], None)
            self._save()
        return status, out_headers, out

    def _forward(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        keep = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        request = urllib.request.Request(
            f"{self.moto_url}/", data=body, method="POST", headers=keep
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def _rewrite(self, operation: str, data: dict[str, Any]) -> dict[str, Any]:
        for key in EMPTY_OBJECTS:
            if data.get(key) == {}:
                del data[key]
        with self.lock:
            if operation == "DescribeEndpoint" and data.get("EndpointName") in self.endpoints:
                state = self.endpoints[data["EndpointName"]]
                data.update(
                    EndpointConfigName=state.config,
                    EndpointStatus=state.status,
                    LastModifiedTime=state.modified,
                )
                data.pop("FailureReason", None)
                if state.failure_reason:
                    data["FailureReason"] = state.failure_reason
                if state.last_deployment:
                    data["LastDeploymentConfig"] = state.last_deployment
                if state.pending:
                    data["PendingDeploymentSummary"] = {"EndpointConfigName": state.pending}
            for summary in data.get("Endpoints", []):
                if summary.get("EndpointName") in self.endpoints:
                    summary["EndpointStatus"] = self.endpoints[summary["EndpointName"]].status
        return data

    # UpdateEndpoint ---------------------------------------------------------------------------

    def update_endpoint(self, request: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        name, new = request.get("EndpointName", ""), request.get("EndpointConfigName", "")
        try:
            described = self.sagemaker.describe_endpoint(EndpointName=name)
        except self.sagemaker.exceptions.ClientError:
            return error(400, "ValidationException", f'Could not find endpoint "{name}".')
        try:
            models = self.models_of(new)
        except self.sagemaker.exceptions.ClientError:
            return error(
                400, "ValidationException", f'Could not find endpoint configuration "{new}".'
            )
        with self.lock:
            state = self.endpoints.setdefault(
                name,
                EndpointState(described["EndpointConfigName"], described["EndpointConfigName"]),
            )
            if state.status != "InService":
                return error(
                    400,
                    "ValidationException",
                    f'Cannot update in-progress endpoint "{described["EndpointArn"]}".',
                )
            state.status, state.pending, state.failure_reason = "Updating", new, None
            state.modified = time.time()
            old = state.config
        self._save()
        deployment = request.get("DeploymentConfig") or {}
        threading.Thread(
            target=self._deploy, args=(name, old, new, models, deployment), daemon=True
        ).start()
        body = json.dumps({"EndpointArn": described["EndpointArn"]}).encode()
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, body

    def _deploy(
        self, name: str, old: str, new: str, models: set[str], deployment: dict[str, Any]
    ) -> None:
        try:
            for model in sorted(models):  # the green fleet; the blue one serves meanwhile
                self.fleet.start(model)
        except Exception as exc:
            self._finish(
                name, old, f"Failed to deploy {new}: {exc}", retire=models - self.models_of(old)
            )
            return
        with self.lock:
            self.endpoints[name].serving = new  # all traffic at once
        policy = deployment.get("BlueGreenUpdatePolicy") or {}
        bake = min(float(policy.get("TerminationWaitInSeconds", 0)), self.bake_cap)
        alarms = [
            a["AlarmName"]
            for a in (deployment.get("AutoRollbackConfiguration") or {}).get("Alarms", [])
        ]
        deadline = time.monotonic() + bake
        while True:
            firing = self._firing(alarms)
            if firing:
                self._finish(
                    name,
                    old,
                    f"Rolled back: alarm {firing} went into ALARM during baking",
                    retire=models - self.models_of(old),
                )
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(min(0.25, bake))
        self._finish(name, new, None, retire=self.models_of(old) - models, deployment=deployment)

    def _firing(self, alarms: list[str]) -> str | None:
        if not alarms:
            return None
        found = self.cloudwatch.describe_alarms(AlarmNames=alarms).get("MetricAlarms", [])
        return next((a["AlarmName"] for a in found if a.get("StateValue") == "ALARM"), None)

    def _finish(
        self,
        name: str,
        config: str,
        failure: str | None,
        retire: set[str],
        deployment: dict[str, Any] | None = None,
    ) -> None:
        with self.lock:
            state = self.endpoints[name]
            state.config = state.serving = config
            state.status, state.pending, state.failure_reason = "InService", None, failure
            state.modified = time.time()
            if deployment is not None:
                state.last_deployment = deployment
        self._save()
        self.fleet.retire(retire)
        print(
            f"[sagemaker] endpoint {name} InService on {config}"
            + (f" ({failure})" if failure else ""),
            flush=True,
        )

    # Kept across a restart of this process (not of the emulator, whose state is in memory) -----

    def _save(self) -> None:
        with self.lock:
            data = {name: asdict(state) for name, state in self.endpoints.items()}
        partial = self.state_file.with_suffix(".partial")
        partial.write_text(json.dumps(data))
        partial.replace(self.state_file)

    def _load(self) -> dict[str, EndpointState]:
        if not self.state_file.exists():
            return {}
        loaded: dict[str, EndpointState] = {}
        for name, fields in json.loads(self.state_file.read_text()).items():
            state = EndpointState(**fields)
            try:
                self.models_of(state.config)  # a config of an emulator that has since restarted?
            except self.sagemaker.exceptions.ClientError:
                continue
            # An update this process was running when it stopped is abandoned, as failed.
            state.serving, state.status, state.pending = state.config, "InService", None
            loaded[name] = state
        return loaded
