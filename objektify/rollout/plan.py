"""The pure parts of a rollout: version rules, resource names, the next endpoint config and the
deployment policy. No AWS calls here, so each rule is unit-tested on its own."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sagemaker.core.shapes import (
    Alarm,
    AutoRollbackConfig,
    BlueGreenUpdatePolicy,
    DeploymentConfig,
    TrafficRoutingConfig,
)
from sagemaker.core.utils.utils import Unassigned

from functions.inference.manifest import UNPUBLISHED

VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
NAME_LIMIT = 63  # SageMaker model and endpoint config names
# Endpoint config fields a new config carries over unchanged (all but the variants' model).
CARRIED_OVER = (
    "async_inference_config",
    "data_capture_config",
    "kms_key_id",
    "explainer_config",
    "execution_role_arn",
    "vpc_config",
    "enable_network_isolation",
    "metrics_config",
)


class RolloutError(RuntimeError):
    """A rollout refused or failed; the message tells the operator what happened."""


def check_version(version: str) -> str:
    if not VERSION.match(version) or version == UNPUBLISHED:
        raise RolloutError(
            f"version {version!r}: use 1-40 letters, digits, '.', '_' or '-', starting with a "
            f"letter or digit (and not {UNPUBLISHED!r})"
        )
    return version


def resource_name(endpoint: str, version: str) -> str:
    """The SageMaker Model and EndpointConfig name of `version`: readable, at most 63
    characters, and distinct for versions that differ only in punctuation (1.0 vs 1-0)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", version).strip("-")
    tag = hashlib.sha256(version.encode()).hexdigest()[:6]
    room = NAME_LIMIT - len(endpoint) - len(tag) - 2
    if room < 1:
        raise RolloutError(f"endpoint name {endpoint!r} leaves no room for a version")
    return f"{endpoint}-{slug[:room].rstrip('-')}-{tag}"


def package_group(endpoint: str) -> str:
    """The model package group that records the endpoint's versions."""
    return f"{endpoint}-models"


def archive_key(endpoint: str, version: str) -> str:
    return f"{endpoint}/{version}/model.tar.gz"


def model_environment(name: str, version: str) -> dict[str, str]:
    """What the container reports as its model (over the archive manifest's)."""
    return {"OBJEKTIFY_MODEL_NAME": name, "OBJEKTIFY_MODEL_VERSION": version}


def _assigned(value: Any) -> bool:
    return value is not None and not isinstance(value, Unassigned)


def next_endpoint_config(current: Any, config_name: str, model_name: str) -> dict[str, Any]:
    """The arguments of `EndpointConfig.create` for a config that serves `model_name` and is
    otherwise the current one: the variant's instance type and count, and the
    AsyncInferenceConfig (output and failure paths, success and error topics, concurrency)
    carried over unchanged. `current` is a sagemaker-core EndpointConfig."""
    variants = current.production_variants if _assigned(current.production_variants) else []
    if len(variants) != 1:
        raise RolloutError(
            f"endpoint config {current.endpoint_config_name} has {len(variants)} production "
            "variants; a publish replaces the model of exactly one"
        )
    if not _assigned(current.async_inference_config):
        raise RolloutError(
            f"endpoint config {current.endpoint_config_name} has no AsyncInferenceConfig: "
            "the service needs an async endpoint"
        )
    args: dict[str, Any] = {
        "endpoint_config_name": config_name,
        "production_variants": [variants[0].model_copy(update={"model_name": model_name})],
    }
    for field in CARRIED_OVER:
        value = getattr(current, field, None)
        if _assigned(value):
            args[field] = value
    return args


def deployment_config(alarms: list[str], bake_seconds: int, timeout_seconds: int) -> Any:
    """Blue/green, all traffic at once, then a baking period watched by `alarms`: if one
    fires, SageMaker itself puts the endpoint back on the old fleet."""
    policy: dict[str, Any] = {
        "blue_green_update_policy": BlueGreenUpdatePolicy(
            # 1, not 0: sagemaker-core 2.27 drops falsy fields of a shape when serializing, and
            # this one is required.
            traffic_routing_configuration=TrafficRoutingConfig(
                type="ALL_AT_ONCE", wait_interval_in_seconds=1
            ),
            termination_wait_in_seconds=bake_seconds,
            maximum_execution_timeout_in_seconds=timeout_seconds,
        )
    }
    if alarms:
        policy["auto_rollback_configuration"] = AutoRollbackConfig(
            alarms=[Alarm(alarm_name=name) for name in alarms]
        )
    return DeploymentConfig(**policy)
