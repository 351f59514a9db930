"""Create the local stack's AWS resources from the same definitions the app reads.

Tables come from the PynamoDB models (`chalicelib.models.TABLE_MODELS`), everything else from
`chalicelib.resources` and `chalicelib.settings`. Safe to run again: what exists is kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from chalicelib.roles import GROUPS
from infra.config import DEFAULTS
from local.config import REGION

POOL_NAME = "objektify-local"
CLIENT_NAME = "objektify-web"
LOCAL_MODEL = "objektify-tiny-local"
LOCAL_IMAGE = "objektify-inference:local"
ROLE_ARN = "arn:aws:iam::123456789012:role/objektify-local-sagemaker"


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION)


def create_tables(endpoint: str | None = None) -> None:
    from chalicelib.models import TABLE_MODELS

    for model in TABLE_MODELS:
        if not model.exists():
            model.create_table(wait=True)
        elif endpoint and getattr(model.Meta, "stream_view_type", None):
            _enable_stream(_client("dynamodb", endpoint), model.Meta)


def _enable_stream(dynamodb: Any, meta: Any) -> None:
    """A table kept from before its model had a stream (a restarted stack) gets it now."""
    described = dynamodb.describe_table(TableName=meta.table_name)["Table"]
    if described.get("StreamSpecification", {}).get("StreamEnabled"):
        return
    dynamodb.update_table(
        TableName=meta.table_name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": meta.stream_view_type},
    )


def _queue(sqs: Any, name: str, attributes: dict[str, str]) -> str:
    """Create the queue, or give a kept one (a restarted stack) this run's settings."""
    try:
        return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("QueueAlreadyExists", "QueueNameExists"):
            raise
    url = str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return url


def create_messaging(endpoint: str) -> dict[str, str]:
    """Buckets, queues with DLQs, topics, SNS → SQS subscriptions, S3 → SQS notifications."""
    from chalicelib import resources
    from chalicelib.settings import get_settings

    settings = get_settings()
    s3, sqs, sns = (_client(name, endpoint) for name in ("s3", "sqs", "sns"))
    # In us-east-1 CreateBucket on a bucket of one's own succeeds, and moto then replaces it with
    # an empty one: a kept bucket (a restarted stack) must not be created again.
    existing_buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in resources.buckets(settings):
        if bucket not in existing_buckets:
            s3.create_bucket(Bucket=bucket)
    rules: dict[str, list[dict[str, Any]]] = {}
    for bucket, prefix, days in resources.expiring_prefixes(settings):
        rules.setdefault(bucket, []).append(
            {
                "ID": f"expire-{prefix.strip('/')}",
                "Filter": {"Prefix": prefix},
                "Status": "Enabled",
                "Expiration": {"Days": days},
            }
        )
    for bucket, (tag_key, tag_value), days in resources.expiring_tags(settings):
        rules.setdefault(bucket, []).append(
            {
                "ID": f"expire-tagged-{tag_key}",
                "Filter": {"Tag": {"Key": tag_key, "Value": tag_value}},
                "Status": "Enabled",
                "Expiration": {"Days": days},
            }
        )
    for bucket, bucket_rules in rules.items():
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": bucket_rules}
        )
    arns: dict[str, str] = {}
    for spec in resources.queues(settings):
        dlq_url = sqs.create_queue(QueueName=spec.dlq_name)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        url = _queue(
            sqs,
            spec.name,
            {
                "VisibilityTimeout": str(spec.visibility_seconds),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(spec.max_receives)}
                ),
            },
        )
        arns[spec.name] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
    for topic in resources.topics(settings):
        arns[topic] = sns.create_topic(Name=topic)["TopicArn"]
    existing = {
        (s["TopicArn"], s["Endpoint"]) for s in sns.list_subscriptions().get("Subscriptions", [])
    }
    for sub in resources.subscriptions(settings):
        if (arns[sub.topic], arns[sub.queue]) not in existing:
            sns.subscribe(
                TopicArn=arns[sub.topic],
                Protocol="sqs",
                Endpoint=arns[sub.queue],
                Attributes={"RawMessageDelivery": "true"},
            )
    by_bucket: dict[str, list[dict[str, Any]]] = {}
    for note in resources.notifications(settings):
        by_bucket.setdefault(note.bucket, []).append(
            {
                "QueueArn": arns[note.queue],
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": note.prefix}]}},
            }
        )
    for bucket, configs in by_bucket.items():
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": configs}
        )
    # The web client posts pictures straight to the uploads bucket (a presigned POST). In AWS
    # only the site's origin may (infra/storage.py); the local site's port varies, so any.
    s3.put_bucket_cors(
        Bucket=settings.uploads_bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedMethods": ["POST"],
                    "AllowedOrigins": ["*"],
                    "AllowedHeaders": ["*"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )
    return arns


def create_endpoint(endpoint: str, topic_arns: dict[str, str]) -> None:
    """The async endpoint: a model, an endpoint config with AsyncInferenceConfig, the endpoint."""
    from chalicelib import resources
    from chalicelib.settings import get_settings

    settings = get_settings()
    sagemaker = _client("sagemaker", endpoint)
    names = {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]}
    if settings.endpoint_name in names:
        return
    sagemaker.create_model(
        ModelName=LOCAL_MODEL,
        PrimaryContainer={"Image": LOCAL_IMAGE, "Mode": "SingleModel"},
        ExecutionRoleArn=ROLE_ARN,
    )
    config_name = f"{settings.endpoint_name}-v1"
    sagemaker.create_endpoint_config(
        EndpointConfigName=config_name,
        ProductionVariants=[
            {
                "VariantName": "primary",
                "ModelName": LOCAL_MODEL,
                "InstanceType": "ml.g4dn.xlarge",
                "InitialInstanceCount": 1,
            }
        ],
        AsyncInferenceConfig={
            # As a deployment's default (infra/config.py): the container batches them.
            "ClientConfig": {
                "MaxConcurrentInvocationsPerInstance": int(DEFAULTS["max_concurrent_invocations"])
            },
            "OutputConfig": {
                "S3OutputPath": resources.output_path(settings),
                "S3FailurePath": resources.failure_path(settings),
                "NotificationConfig": {
                    "SuccessTopic": topic_arns[settings.success_topic],
                    "ErrorTopic": topic_arns[settings.error_topic],
                },
            },
        },
    )
    sagemaker.create_endpoint(EndpointName=settings.endpoint_name, EndpointConfigName=config_name)
    # The alarm a model rollout's deployment policy watches (async endpoints report failed
    # invocations as Invocation5XXErrors); locally nothing feeds it, but its state can be set.
    _client("cloudwatch", endpoint).put_metric_alarm(
        AlarmName=resources.endpoint_alarm(settings),
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[
            {"Name": "EndpointName", "Value": settings.endpoint_name},
            {"Name": "VariantName", "Value": "primary"},
        ],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )


def ensure_user_pool(endpoint: str) -> tuple[str, str]:
    """The local Cognito user pool, its app client and groups: (pool id, client id)."""
    idp = _client("cognito-idp", endpoint)
    pools = idp.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((p["Id"] for p in pools if p["Name"] == POOL_NAME), None)
    if pool_id is None:
        pool_id = idp.create_user_pool(
            PoolName=POOL_NAME,
            Policies={"PasswordPolicy": {"MinimumLength": 12}},
        )["UserPool"]["Id"]
    clients = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((c["ClientId"] for c in clients if c["ClientName"] == CLIENT_NAME), None)
    if client_id is None:
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=CLIENT_NAME,
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
    existing = {g["GroupName"] for g in idp.list_groups(UserPoolId=pool_id)["Groups"]}
    for group in GROUPS:
        if group not in existing:
            idp.create_group(UserPoolId=pool_id, GroupName=group)
    return str(pool_id), str(client_id)


def create_flags(endpoint: str) -> None:
    """The service switches' parameter, every switch on, unless it exists."""
    from chalicelib.settings import get_settings
    from chalicelib.switches import default_document

    ssm = _client("ssm", endpoint)
    name = get_settings().flags_parameter
    try:
        ssm.get_parameter(Name=name)
    except ssm.exceptions.ParameterNotFound:
        ssm.put_parameter(Name=name, Value=json.dumps(default_document()), Type="String")


def create_credentials_key(endpoint: str) -> str:
    """The KMS key that signs content credentials and its development chain, in the emulator
    at `endpoint`, issued by the development root kept in the local folder. The emulator's
    snapshot keeps the key across restarts; the root stays on disk, so readers that trust it
    keep trusting every chain it issues (`make reset` wipes both)."""
    from local.config import local_dir

    return credentials_key(_client("kms", endpoint), _client("ssm", endpoint), local_dir())


def credentials_key(kms: Any, ssm: Any, root_dir: Path) -> str:
    """The content credentials' key (as the CDK app makes it in AWS: asymmetric,
    ECC_NIST_P256, SIGN_VERIFY) under the alias settings name, made unless it exists, and a
    development chain for it in the SSM parameter, issued by the root kept in `root_dir`."""
    from chalicelib.adapters.signing_key import KEY_SPEC
    from chalicelib.settings import get_settings
    from objektify.credentials import ensure_development_chain

    settings = get_settings()
    alias = settings.credentials_key_id
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    if alias.startswith("alias/") and not aliases.get(alias):
        key_id = kms.create_key(
            KeyUsage="SIGN_VERIFY",
            KeySpec=KEY_SPEC,
            Description="Objektify content credentials (local)",
        )["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    ensure_development_chain(kms, ssm, alias, settings.credentials_chain_parameter, root_dir)
    return alias


def bootstrap(endpoint: str) -> tuple[str, str]:
    create_tables(endpoint)
    create_flags(endpoint)
    create_credentials_key(endpoint)
    arns = create_messaging(endpoint)
    create_endpoint(endpoint, arns)
    return ensure_user_pool(endpoint)
