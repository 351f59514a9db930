"""The SageMaker async endpoint: model, async config with both topics, and scaling to zero."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match, Template

from chalicelib import resources
from infra.config import DEFAULTS
from tests.infra.support import CONTEXT, REGION, Synth, arn_of, ref, stage_settings


def _one(synth: Synth, kind: str) -> tuple[str, dict[str, Any]]:
    ((logical_id, resource),) = synth.of_type(kind).items()
    return logical_id, dict(resource["Properties"])


def test_the_model_runs_the_given_image_and_artifacts_in_isolation(synth: Synth) -> None:
    _, model = _one(synth, "AWS::SageMaker::Model")
    assert model["PrimaryContainer"] == {
        "Image": CONTEXT["model_image"],
        "ModelDataUrl": CONTEXT["model_data"],
        "Mode": "SingleModel",
    }
    assert model["EnableNetworkIsolation"] is True


def test_the_endpoint_config_is_async_with_both_topics_and_the_apps_paths(synth: Synth) -> None:
    settings = stage_settings()
    _, config = _one(synth, "AWS::SageMaker::EndpointConfig")
    originals, _ = synth.named("AWS::S3::Bucket", "BucketName", settings.originals_bucket)
    success, _ = synth.named("AWS::SNS::Topic", "TopicName", settings.success_topic)
    error, _ = synth.named("AWS::SNS::Topic", "TopicName", settings.error_topic)
    output = config["AsyncInferenceConfig"]["OutputConfig"]
    assert output["NotificationConfig"] == {"SuccessTopic": ref(success), "ErrorTopic": ref(error)}

    def path(expected: str) -> dict[str, Any]:
        key = expected.removeprefix(f"s3://{settings.originals_bucket}")
        return {"Fn::Join": ["", ["s3://", ref(originals), key]]}

    assert output["S3OutputPath"] == path(resources.output_path(settings))
    assert output["S3FailurePath"] == path(resources.failure_path(settings))
    (variant,) = config["ProductionVariants"]
    assert variant["InstanceType"] == CONTEXT["instance_type"]


def test_an_instance_takes_the_configured_number_of_invocations_at_once(synth: Synth) -> None:
    # The container batches concurrent invocations; the deployment's context sets how many
    # an instance is sent (the CI context leaves the default).
    _, config = _one(synth, "AWS::SageMaker::EndpointConfig")
    assert config["AsyncInferenceConfig"]["ClientConfig"] == {
        "MaxConcurrentInvocationsPerInstance": int(DEFAULTS["max_concurrent_invocations"])
    }


def test_the_endpoint_has_the_name_the_app_invokes(synth: Synth, template: Template) -> None:
    config_id, _ = _one(synth, "AWS::SageMaker::EndpointConfig")
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "EndpointName": stage_settings().endpoint_name,
            "EndpointConfigName": {"Fn::GetAtt": [config_id, "EndpointConfigName"]},
        },
    )


def test_the_endpoint_scales_on_its_backlog_down_to_zero_and_back(
    synth: Synth, template: Template
) -> None:
    name = stage_settings().endpoint_name
    target_id, target = _one(synth, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["MinCapacity"] == 0
    assert target["MaxCapacity"] == int(CONTEXT["max_instances"])
    assert target["ResourceId"] == f"endpoint/{name}/variant/primary"
    assert target["RoleARN"].endswith("AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint")
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "ScalingTargetId": ref(target_id),
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": Match.object_like(
                {
                    "CustomizedMetricSpecification": {
                        "Namespace": "AWS/SageMaker",
                        "MetricName": "ApproximateBacklogSizePerInstance",
                        "Dimensions": [{"Name": "EndpointName", "Value": name}],
                        "Statistic": "Average",
                    }
                }
            ),
        },
    )
    (step_id,) = [
        k
        for k, p in synth.of_type("AWS::ApplicationAutoScaling::ScalingPolicy").items()
        if p["Properties"]["PolicyType"] == "StepScaling"
    ]
    step = synth.resources[step_id]["Properties"]["StepScalingPolicyConfiguration"]
    assert step["StepAdjustments"] == [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SageMaker",
            "MetricName": "HasBacklogWithoutCapacity",
            "Dimensions": [{"Name": "EndpointName", "Value": name}],
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 1,
            "AlarmActions": [ref(step_id)],
        },
    )
    # Registering the target needs the endpoint.
    assert any("Endpoint" in d for d in synth.resources[target_id]["DependsOn"])


def test_the_endpoint_role_reads_requests_writes_images_and_publishes(synth: Synth) -> None:
    settings = stage_settings()
    _, model = _one(synth, "AWS::SageMaker::Model")
    statements = synth.role_statements(model["ExecutionRoleArn"])
    inputs, _ = synth.named("AWS::S3::Bucket", "BucketName", settings.inputs_bucket)
    originals, _ = synth.named("AWS::S3::Bucket", "BucketName", settings.originals_bucket)

    def objects(bucket: str, prefix: str) -> dict[str, Any]:
        return {"Fn::Join": ["", [arn_of(bucket), f"/{prefix}*"]]}

    allowed = {
        (action, str(resource))
        for s in statements
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        for resource in ([s["Resource"]] if not isinstance(s["Resource"], list) else s["Resource"])
    }
    assert ("s3:GetObject", str(objects(inputs, resources.INPUT_PREFIX))) in allowed
    assert ("s3:PutObject", str(objects(originals, resources.OUTPUT_PREFIX))) in allowed
    assert ("s3:PutObject", str(objects(originals, resources.FAILURE_PREFIX))) in allowed
    for topic in (settings.success_topic, settings.error_topic):
        topic_id, _ = synth.named("AWS::SNS::Topic", "TopicName", topic)
        assert ("sns:Publish", str(ref(topic_id))) in allowed
    repository = f"arn:aws:ecr:{REGION}:{CONTEXT['account']}:repository/objektify/inference"
    assert ("ecr:BatchGetImage", repository) in allowed
    assert ("s3:GetObject", "arn:aws:s3:::objektify-models-ci/diffusion/model.tar.gz") in allowed
    assert not any(a.startswith(("dynamodb:", "sqs:", "s3:Delete")) for a, _ in allowed)


def test_the_endpoint_has_the_error_alarm_a_model_rollout_watches(synth: Synth) -> None:
    from chalicelib import resources

    _, alarm = synth.named(
        "AWS::CloudWatch::Alarm", "AlarmName", resources.endpoint_alarm(stage_settings())
    )
    assert alarm["Properties"]["MetricName"] == "InvocationFailures"
    assert alarm["Properties"]["Namespace"] == "AWS/SageMaker"
