"""What the infra tests share: the deployment they synthesize and ways to read its template."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from unittest import mock

from chalicelib.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "210987654321"
# Not the default region, so nothing may silently assume us-east-1.
REGION = "eu-west-1"
CONTEXT = {
    "stage": "ci",
    "account": ACCOUNT,
    "region": REGION,
    "model_image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/objektify/inference:2026-01",
    "model_data": "s3://objektify-models-ci/diffusion/model.tar.gz",
    "instance_type": "ml.g5.2xlarge",
    "max_instances": "3",
    "alarm_email": "ops@example.org",
}


@dataclass(frozen=True)
class Synth:
    outdir: Path
    template: dict[str, Any]
    report: dict[str, Any]
    output: str
    layers_seconds: float
    synth_seconds: float

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.template["Resources"])

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == kind}

    def app_layers(self) -> dict[str, dict[str, Any]]:
        """The functions' layers (infra/layers.py), not the CDK's own (the AWS CLI layer of the
        web client's deployment)."""
        prefix = f"objektify-{CONTEXT['stage']}-"
        return {
            k: r
            for k, r in self.of_type("AWS::Lambda::LayerVersion").items()
            if r["Properties"].get("LayerName", "").startswith(prefix)
        }

    def named(self, kind: str, key: str, name: str) -> tuple[str, dict[str, Any]]:
        """The resource of `kind` whose property `key` is `name`: (logical id, resource)."""
        found = [(k, r) for k, r in self.of_type(kind).items() if r["Properties"].get(key) == name]
        assert len(found) == 1, f"{kind} {key}={name}: {len(found)} found"
        return found[0]

    def function(self, name: str) -> dict[str, Any]:
        """A Chalice function by its Chalice name (`api_handler`, `on_output_created`, …)."""
        wanted = f"objektify-{CONTEXT['stage']}-{name.replace('_', '-')}"
        return self.named("AWS::Serverless::Function", "FunctionName", wanted)[1]

    def role_statements(self, role_ref: dict[str, Any]) -> list[dict[str, Any]]:
        """Every statement that applies to the role `{"Fn::GetAtt": [id, "Arn"]}` names."""
        role_id = role_ref["Fn::GetAtt"][0]
        role = self.resources[role_id]["Properties"]
        found = [s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
        for policy in self.of_type("AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                found += policy["Properties"]["PolicyDocument"]["Statement"]
        return found


def stage_settings() -> Settings:
    """The settings the deployed functions get names from (the stage's defaults)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OBJEKTIFY_")}
    with mock.patch.dict(os.environ, {**clean, "OBJEKTIFY_STAGE": CONTEXT["stage"]}, clear=True):
        return Settings.from_env()


def deployed_name(local_name: str, kind: str = "") -> str:
    """A resource name as the deployed stage has it, from the name this process's settings give
    (the app's modules read their settings, for the stage of this process, at import)."""
    here = get_settings()
    # A table, a bucket and a queue may share a name ("exports"): `kind` (e.g. "_queue") picks.
    (setting,) = [
        f.name
        for f in fields(here)
        if getattr(here, f.name) == local_name and f.name.endswith(kind)
    ]
    return str(getattr(stage_settings(), setting))


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def arn_of(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
