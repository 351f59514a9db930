"""The endpoint through sagemaker-core's resource classes (Model, EndpointConfig, Endpoint):
what it serves, creating what a version needs, moving it between configs, the smoke test."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from sagemaker.core.resources import Endpoint, EndpointConfig, Model
from sagemaker.core.shapes import ContainerDefinition
from sagemaker.core.utils.exceptions import FailedStatusError, TimeoutExceededError

from objektify.rollout import plan, smoke
from objektify.rollout.registry import Release
from objektify.rollout.target import Target

# sagemaker-core logs every call at INFO through rich; the command prints its own report.
logging.getLogger("sagemaker").setLevel(logging.WARNING)
for _name in list(logging.root.manager.loggerDict):
    if _name.startswith("sagemaker"):
        logging.getLogger(_name).setLevel(logging.WARNING)


def s3() -> Any:
    import boto3

    return boto3.client("s3")


def _missing(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    message = str(error.get("Message", ""))
    return error.get("Code") in ("ValidationException", "ResourceNotFound") and (
        "Could not find" in message or "does not exist" in message
    )


def current(endpoint_name: str) -> Any:
    """The endpoint as SageMaker describes it now."""
    return Endpoint.get(endpoint_name)


def serving_model(endpoint: Any) -> Any:
    config = EndpointConfig.get(endpoint.endpoint_config_name)
    return Model.get(config.production_variants[0].model_name)


def environment_of(config_name: str) -> dict[str, str]:
    """The environment of the model a config serves (names the model, once published)."""
    config = EndpointConfig.get(config_name)
    model = Model.get(config.production_variants[0].model_name)
    environment = getattr(model.primary_container, "environment", None)
    return dict(environment) if isinstance(environment, dict) else {}


def ensure_model(release: Release) -> bool:
    """The SageMaker Model of a release (archive + image + environment); True if created."""
    wanted = plan.model_environment(release["name"], release["version"])
    try:
        existing = Model.get(release["model"])
    except ClientError as exc:
        if not _missing(exc):
            raise
    else:
        if dict(existing.primary_container.environment or {}) != wanted:
            raise plan.RolloutError(
                f"model {release['model']} exists and serves something else: "
                f"{existing.primary_container.environment}"
            )
        return False
    Model.create(
        model_name=release["model"],
        primary_container=ContainerDefinition(
            image=release["image"],
            mode="SingleModel",
            model_data_url=release["archive_url"],
            environment=wanted,
        ),
        execution_role_arn=release["role"],
    )
    return True


def ensure_config(release: Release, base: str) -> bool:
    """The release's endpoint config, derived from config `base`; True if created."""
    try:
        EndpointConfig.get(release["config"])
        return False
    except ClientError as exc:
        if not _missing(exc):
            raise
    derived = plan.next_endpoint_config(
        EndpointConfig.get(base), release["config"], release["model"]
    )
    EndpointConfig.create(**derived)
    return True


def switch(
    target: Target, config_name: str, say: Callable[[str], None], guarded: bool = True
) -> str:
    """Put the endpoint on `config_name` and wait until it is InService. Returns "" when it
    serves that config, else why it does not (SageMaker rolled back, or the update failed)."""
    endpoint = current(target.endpoint)
    started = time.monotonic()
    if endpoint.endpoint_status == "Updating":
        say(f"endpoint {target.endpoint} is already updating; waiting for it")
    elif endpoint.endpoint_config_name == config_name:
        say(f"endpoint {target.endpoint} already serves {config_name}")
        return ""
    else:
        alarms = list(target.alarms) if guarded else []
        policy = plan.deployment_config(
            alarms, target.bake_seconds if guarded else 0, target.deploy_timeout_seconds
        )
        say(
            f"updating endpoint {target.endpoint}: {endpoint.endpoint_config_name} → "
            f"{config_name} (blue/green, all at once"
            + (
                f", {target.bake_seconds} s baking watched by {', '.join(alarms)})"
                if alarms
                else ")"
            )
        )
        endpoint.endpoint_config_name = config_name
        endpoint.update(deployment_config=policy)
    try:
        endpoint.wait_for_status(
            "InService", poll=target.poll_seconds, timeout=target.deploy_timeout_seconds
        )
    except FailedStatusError as exc:
        return f"the endpoint is {exc}"
    except TimeoutExceededError as exc:
        raise plan.RolloutError(f"gave up waiting for the endpoint: {exc}") from exc
    endpoint.refresh()
    if endpoint.endpoint_config_name != config_name:
        reason = endpoint.failure_reason if isinstance(endpoint.failure_reason, str) else ""
        return f"SageMaker kept {endpoint.endpoint_config_name} ({reason or 'no reason given'})"
    say(f"endpoint InService on {config_name} after {time.monotonic() - started:.1f} s")
    return ""


def smoke_test(target: Target, expected: dict[str, str] | None) -> smoke.SmokeResult:
    """One async invocation through the runtime, expecting an image that names `expected`."""
    from chalicelib.adapters import ids
    from chalicelib.resources import INPUT_PREFIX

    inference_id = ids.new_id()
    return smoke.run(
        current(target.endpoint),
        s3(),
        f"s3://{target.inputs_bucket}/{INPUT_PREFIX}{inference_id}.json",
        inference_id,
        expected,
        size=target.smoke_size,
        steps=target.smoke_steps,
        timeout_s=target.smoke_timeout_seconds,
    )
