"""The SageMaker async endpoint that paints the images, and its scaling down to zero GPUs.

Model (the container image and, optionally, model artifacts in S3) → endpoint config with
AsyncInferenceConfig (outputs and failures in the originals bucket, both notification topics)
→ endpoint. Application Auto Scaling follows the queue of waiting requests per instance and may
take the endpoint to zero instances; a step policy on `HasBacklogWithoutCapacity` brings the
first instance back when a request arrives while there is none.
"""

from __future__ import annotations

import dataclasses

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from chalicelib import resources
from chalicelib.settings import Settings
from infra.config import DeployConfig
from infra.nag import acknowledge, acknowledge_object_prefixes

VARIANT = "primary"
SCALE_IN_COOLDOWN = cdk.Duration.minutes(10)  # GPU instances take minutes to start: no flapping
SCALE_OUT_COOLDOWN = cdk.Duration.minutes(5)


class Inference(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        settings: Settings,
        config: DeployConfig,
        inputs: s3.Bucket,
        originals: s3.Bucket,
        success: sns.Topic,
        error: sns.Topic,
    ) -> None:
        super().__init__(scope, id)
        self.endpoint_name = settings.endpoint_name
        role = self._role(config, inputs, originals, success, error)
        container = sagemaker.CfnModel.ContainerDefinitionProperty(
            image=config.model_image,
            model_data_url=config.model_data or None,
            mode="SingleModel",
        )
        model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=role.role_arn,
            primary_container=container,
            # The container reads its input from and writes its output to S3 through SageMaker
            # and needs no network of its own (the model is loaded offline).
            enable_network_isolation=True,
        )
        # The role's ARN makes the model wait for the role, not for the grants added to it.
        grants = role.node.try_find_child("DefaultPolicy")
        assert grants is not None
        model.node.add_dependency(grants)
        # The paths come from the app's own catalogue; the bucket's name is a reference, so the
        # endpoint config waits for the bucket.
        wired = dataclasses.replace(settings, originals_bucket=originals.bucket_name)
        endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=VARIANT,
                    model_name=model.attr_model_name,
                    instance_type=config.instance_type,
                    # SageMaker creates an async endpoint with instances; scaling may then take
                    # it to zero.
                    initial_instance_count=1,
                    initial_variant_weight=1.0,
                )
            ],
            async_inference_config=sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
                # How many requests an instance is sent at once: the container paints those that
                # share size, steps and guidance in one batch (functions/inference/batching.py),
                # so this should be at least its OBJEKTIFY_MAX_BATCH or batches never fill.
                client_config=sagemaker.CfnEndpointConfig.AsyncInferenceClientConfigProperty(
                    max_concurrent_invocations_per_instance=config.max_concurrent_invocations
                ),
                output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                    s3_output_path=resources.output_path(wired),
                    s3_failure_path=resources.failure_path(wired),
                    notification_config=sagemaker.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                        success_topic=success.topic_arn,
                        error_topic=error.topic_arn,
                    ),
                ),
            ),
        )
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=settings.endpoint_name,
            endpoint_config_name=endpoint_config.attr_endpoint_config_name,
        )
        self._scaling(config)
        # The alarm a model rollout's deployment policy watches (`objektify model publish`):
        # failed invocations during the bake roll the endpoint back to its previous config.
        self.errors_alarm = cloudwatch.Alarm(
            self,
            "EndpointErrors",
            alarm_name=resources.endpoint_alarm(settings),
            alarm_description="Async invocations fail: a model rollout in progress rolls back",
            metric=cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="InvocationFailures",
                dimensions_map={"EndpointName": settings.endpoint_name},
                statistic="Sum",
                period=cdk.Duration.minutes(1),
            ),
            threshold=1,
            evaluation_periods=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    @property
    def endpoint_arn(self) -> str:
        # SageMaker writes endpoint names in lower case in its ARNs.
        return cdk.Stack.of(self).format_arn(
            service="sagemaker", resource="endpoint", resource_name=self.endpoint_name.lower()
        )

    def _role(
        self,
        config: DeployConfig,
        inputs: s3.Bucket,
        originals: s3.Bucket,
        success: sns.Topic,
        error: sns.Topic,
    ) -> iam.Role:
        stack = cdk.Stack.of(self)
        # SageMaker names the endpoint's log group after it.
        endpoint_logs = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"/aws/sagemaker/Endpoints/{self.endpoint_name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        statements = [
            iam.PolicyStatement(
                sid="ReadRequests",
                actions=["s3:GetObject"],
                resources=[inputs.arn_for_objects(f"{resources.INPUT_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="WriteOutputsAndFailures",
                actions=["s3:PutObject"],
                resources=[
                    originals.arn_for_objects(f"{resources.OUTPUT_PREFIX}*"),
                    originals.arn_for_objects(f"{resources.FAILURE_PREFIX}*"),
                ],
            ),
            iam.PolicyStatement(
                sid="PullModelImage",
                actions=[
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ],
                resources=[config.image_repository_arn],
            ),
            # ECR sign-in has no resource to name.
            iam.PolicyStatement(
                sid="EcrSignIn", actions=["ecr:GetAuthorizationToken"], resources=["*"]
            ),
            iam.PolicyStatement(
                sid="EndpointLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[endpoint_logs],
            ),
            iam.PolicyStatement(
                sid="EndpointMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],  # PutMetricData has no resource; the condition narrows it
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            ),
        ]
        found = config.model_data_object
        if found is not None:
            bucket, key = found
            statements.append(
                iam.PolicyStatement(
                    sid="ReadModelArtifacts",
                    actions=["s3:GetObject"],
                    resources=[f"arn:{stack.partition}:s3:::{bucket}/{key}"],
                )
            )
        role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="The async inference endpoint: read requests, write images, notify",
            inline_policies={"endpoint": iam.PolicyDocument(statements=statements)},
        )
        # Publishing to the encrypted topics needs their key too; CDK grants both.
        success.grant_publish(role)
        error.grant_publish(role)
        why = "Written and read by SageMaker under the async inference contract."
        acknowledge_object_prefixes(
            role,
            [
                (inputs, resources.INPUT_PREFIX),
                (originals, resources.OUTPUT_PREFIX),
                (originals, resources.FAILURE_PREFIX),
            ],
            why,
        )
        acknowledge(
            role,
            "IAM5",
            "ecr:GetAuthorizationToken and cloudwatch:PutMetricData name no resource in IAM; "
            "the metrics are limited to SageMaker's namespaces by condition.",
            finding="Resource::*",
        )
        acknowledge(
            role,
            "IAM5",
            "The endpoint's own log group and its streams, which SageMaker names.",
            finding=f"Resource::{endpoint_logs}",
        )
        acknowledge(
            role,
            "IAM5",
            "CDK's grant for publishing to a KMS-encrypted topic: GenerateDataKey (with and "
            "without plaintext) on the topic key only.",
            finding="Action::kms:GenerateDataKey*",
        )
        return role

    def _scaling(self, config: DeployConfig) -> None:
        stack = cdk.Stack.of(self)
        # Application Auto Scaling's own role for SageMaker; naming it lets CloudFormation create
        # it in an account that has none yet (AWS's advice), and no role of ours is needed.
        service_role = iam.Role.from_role_arn(
            self,
            "ScalingServiceRole",
            f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/"
            "sagemaker.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
            mutable=False,
        )
        target = appscaling.ScalableTarget(
            self,
            "Scaling",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{self.endpoint_name}/variant/{VARIANT}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=0,
            max_capacity=config.max_instances,
            role=service_role,
        )
        target.node.add_dependency(self.endpoint)
        dimensions = {"EndpointName": self.endpoint_name}
        target.scale_to_track_metric(
            "Backlog",
            target_value=config.backlog_per_instance,
            custom_metric=cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="ApproximateBacklogSizePerInstance",
                dimensions_map=dimensions,
                statistic="Average",
                period=cdk.Duration.minutes(1),
            ),
            scale_in_cooldown=SCALE_IN_COOLDOWN,
            scale_out_cooldown=SCALE_OUT_COOLDOWN,
        )
        # Target tracking cannot act on a per-instance metric when there are no instances.
        from_zero = appscaling.StepScalingAction(
            self,
            "ScaleOutFromZero",
            scaling_target=target,
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            metric_aggregation_type=appscaling.MetricAggregationType.AVERAGE,
            cooldown=SCALE_OUT_COOLDOWN,
        )
        from_zero.add_adjustment(adjustment=1, lower_bound=0)
        waiting = cloudwatch.Alarm(
            self,
            "BacklogWithoutCapacity",
            alarm_description="Requests wait and no instance runs: start one",
            metric=cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="HasBacklogWithoutCapacity",
                dimensions_map=dimensions,
                statistic="Average",
                period=cdk.Duration.minutes(1),
            ),
            threshold=1,
            evaluation_periods=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.MISSING,
        )
        waiting.add_alarm_action(cw_actions.ApplicationScalingAction(from_zero))
