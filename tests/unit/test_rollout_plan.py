"""The pure rules of a model rollout: versions, names, the next endpoint config, the policy."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sagemaker.core.resources import EndpointConfig
from sagemaker.core.shapes import ProductionVariant
from sagemaker.core.utils.utils import serialize

from objektify.rollout import plan

# What the bootstrap (and the infrastructure) create: the async config a publish must keep.
ASYNC = {
    "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 2},
    "OutputConfig": {
        "S3OutputPath": "s3://objektify-prod-originals/outputs",
        "S3FailurePath": "s3://objektify-prod-originals/failures",
        "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/abc",
        "NotificationConfig": {
            "SuccessTopic": "arn:aws:sns:us-east-1:123456789012:objektify-prod-success",
            "ErrorTopic": "arn:aws:sns:us-east-1:123456789012:objektify-prod-error",
            "IncludeInferenceResponseIn": ["SUCCESS_NOTIFICATION_TOPIC"],
        },
    },
}


def current_config(**extra: object) -> EndpointConfig:
    """An EndpointConfig as sagemaker-core reads one from DescribeEndpointConfig."""
    from sagemaker.core.utils.code_injection.codec import transform

    described = {
        "EndpointConfigName": "objektify-prod-generator-v1",
        "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/x",
        "ProductionVariants": [
            {
                "VariantName": "primary",
                "ModelName": "objektify-tiny",
                "InstanceType": "ml.g5.xlarge",
                "InitialInstanceCount": 2,
            }
        ],
        "AsyncInferenceConfig": copy.deepcopy(ASYNC),
        **extra,
    }
    return EndpointConfig(**transform(described, "DescribeEndpointConfigOutput"))


def test_the_next_config_serves_the_new_model_and_keeps_the_async_config_unchanged() -> None:
    derived = plan.next_endpoint_config(current_config(), "objektify-prod-generator-2-abc", "m2")
    assert derived["endpoint_config_name"] == "objektify-prod-generator-2-abc"
    assert serialize(derived["async_inference_config"]) == ASYNC
    [variant] = serialize(derived["production_variants"])
    assert variant == {
        "VariantName": "primary",
        "ModelName": "m2",
        "InstanceType": "ml.g5.xlarge",
        "InitialInstanceCount": 2,
    }
    assert "endpoint_config_arn" not in derived and "creation_time" not in derived


def test_the_current_config_is_not_changed_by_the_derivation() -> None:
    current = current_config()
    before = serialize(current)
    plan.next_endpoint_config(current, "next", "m2")
    assert serialize(current) == before


def test_the_kms_key_is_carried_over() -> None:
    derived = plan.next_endpoint_config(current_config(KmsKeyId="key-1"), "next", "m2")
    assert derived["kms_key_id"] == "key-1"


def test_a_config_without_async_inference_or_with_two_variants_is_refused() -> None:
    plain = current_config()
    plain.async_inference_config = None
    with pytest.raises(plan.RolloutError, match="AsyncInferenceConfig"):
        plan.next_endpoint_config(plain, "next", "m2")
    two = current_config()
    two.production_variants = [*two.production_variants, ProductionVariant(variant_name="b")]
    with pytest.raises(plan.RolloutError, match="2 production variants"):
        plan.next_endpoint_config(two, "next", "m2")


@given(st.text(alphabet="abcXYZ019._-", min_size=1, max_size=40).filter(lambda v: v[0].isalnum()))
def test_resource_names_are_valid_sagemaker_names_and_distinct_per_version(version: str) -> None:
    name = plan.resource_name("objektify-prod-generator", version)
    assert len(name) <= 63
    assert plan.VERSION.match(version)
    assert re.match(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", name)
    assert name != plan.resource_name("objektify-prod-generator", version + "x")


def test_versions_that_differ_only_in_punctuation_get_different_names() -> None:
    assert plan.resource_name("ep", "1.0") != plan.resource_name("ep", "1-0")


@pytest.mark.parametrize("version", ["", "-1", "1 0", "a/b", "x" * 41, "unpublished"])
def test_bad_versions_are_refused(version: str) -> None:
    with pytest.raises(plan.RolloutError):
        plan.check_version(version)


def test_the_deployment_policy_rolls_back_on_the_alarm_after_baking() -> None:
    policy = serialize(plan.deployment_config(["ep-errors"], 300, 3600))
    assert policy["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": "ep-errors"}]}
    blue_green = policy["BlueGreenUpdatePolicy"]
    assert blue_green["TrafficRoutingConfiguration"]["Type"] == "ALL_AT_ONCE"
    assert blue_green["TerminationWaitInSeconds"] == 300
    assert "AutoRollbackConfiguration" not in serialize(plan.deployment_config([], 0, 60))


def test_the_sdk_is_opted_out_of_telemetry() -> None:
    from sagemaker.core.common_utils import resolve_value_from_config
    from sagemaker.core.config.config import load_sagemaker_config
    from sagemaker.core.config.config_schema import TELEMETRY_OPT_OUT_PATH

    import objektify.rollout  # noqa: F401  (sets the SDK's defaults file)

    opted_out = resolve_value_from_config(
        config_path=TELEMETRY_OPT_OUT_PATH,
        default_value=False,
        sagemaker_config=load_sagemaker_config(),
    )
    assert opted_out is True
