"""Event plumbing from `chalicelib.resources`: SQS queues with DLQs and alarms, the SNS topics the
async endpoint notifies, raw-delivery SNS → SQS subscriptions, S3 ObjectCreated → SQS.

Each queue's visibility timeout is at least six times its consumer's timeout (AWS's advice for
Lambda event sources), so a message is never handed to a second consumer while the first still
works on it; after `queue_max_receives` failed deliveries it goes to the DLQ, whose depth alarms.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib import resources
from chalicelib.settings import Settings

VISIBILITY_FACTOR = 6
DLQ_RETENTION = cdk.Duration.days(14)


def alarm_on_first_message(
    scope: Construct, id: str, queue: sqs.IQueue, description: str, topic: sns.ITopic | None
) -> cloudwatch.Alarm:
    """An alarm (to `topic`, where there is one) as soon as `queue` holds a message: for queues
    where every message is a failure an operator must look at."""
    alarm = cloudwatch.Alarm(
        scope,
        id,
        alarm_description=description,
        metric=queue.metric_approximate_number_of_messages_visible(
            period=cdk.Duration.minutes(5), statistic="Maximum"
        ),
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    if topic is not None:
        alarm.add_alarm_action(cw_actions.SnsAction(topic))
    return alarm


class Messaging(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        settings: Settings,
        consumer_timeouts: dict[str, int],
        alarm_email: str,
    ) -> None:
        """`consumer_timeouts`: the timeout (s) of the function consuming each queue, by name."""
        super().__init__(scope, id)
        self.settings = settings
        # SNS topics are encrypted with a key of ours: the endpoint's role and CloudWatch (for
        # alarms) can then be granted its use, which AWS's managed SNS key does not allow.
        self.key = kms.Key(
            self,
            "TopicKey",
            description="Encrypts the Objektify SNS topics",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.alarms = self._topic("Alarms", f"objektify-{settings.stage}-alarms")
        self._allow_alarms()
        if alarm_email:
            self.alarms.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letters: dict[str, sqs.Queue] = {}
        for spec in resources.queues(settings):
            if spec.name not in consumer_timeouts:
                raise ValueError(f"queue {spec.name} has no consuming function in infra")
            self._queue(spec, consumer_timeouts[spec.name])
        self.topics = {
            name: self._topic(_construct_id(name, settings), name)
            for name in resources.topics(settings)
        }
        for sub in resources.subscriptions(settings):
            self.topics[sub.topic].add_subscription(
                subscriptions.SqsSubscription(self.queues[sub.queue], raw_message_delivery=True)
            )

    def _allow_alarms(self) -> None:
        """CloudWatch may publish this account's alarms (and only those) to the alarm topic."""
        stack = cdk.Stack.of(self)
        cloudwatch_service = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        alarms = stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name="*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.alarms.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarms",
                principals=[cloudwatch_service],
                actions=["sns:Publish"],
                resources=[self.alarms.topic_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": alarms},
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            )
        )
        self.key.grant(cloudwatch_service, "kms:Decrypt", "kms:GenerateDataKey*")

    def _topic(self, id: str, name: str) -> sns.Topic:
        return sns.Topic(self, id, topic_name=name, master_key=self.key, enforce_ssl=True)

    def _queue(self, spec: resources.QueueSpec, consumer_timeout: int) -> None:
        id = _construct_id(spec.name, self.settings)
        dlq = sqs.Queue(
            self,
            f"{id}Dlq",
            queue_name=spec.dlq_name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        visibility = max(spec.visibility_seconds, VISIBILITY_FACTOR * consumer_timeout)
        queue = sqs.Queue(
            self,
            id,
            queue_name=spec.name,
            # SQS-managed keys: S3 and SNS can deliver to these without a key policy of ours.
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(visibility),
            # A message must outlive all its retries before the DLQ takes it.
            retention_period=cdk.Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=spec.max_receives),
        )
        alarm_on_first_message(
            self,
            f"{id}DlqDepth",
            dlq,
            f"Messages failed {spec.max_receives} times: {spec.purpose}",
            self.alarms,
        )
        self.queues[spec.name] = queue
        self.dead_letters[spec.name] = dlq

    def notify(self, buckets_by_name: dict[str, s3.Bucket]) -> None:
        """S3 ObjectCreated → SQS, as `resources.notifications` lists (native S3 configuration).

        The queue policy names the bucket by its fixed name instead of referring to it, and the
        bucket waits for that policy: S3 checks it may send when the configuration is set.
        """
        stack = cdk.Stack.of(self)
        by_bucket: dict[str, list[tuple[resources.BucketNotification, sqs.Queue]]] = {}
        for note in resources.notifications(self.settings):
            queue = self.queues[note.queue]
            queue.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"S3ObjectCreatedFrom{_construct_id(note.bucket, self.settings)}",
                    principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[queue.queue_arn],
                    conditions={
                        "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:s3:::{note.bucket}"},
                        "StringEquals": {"aws:SourceAccount": stack.account},
                    },
                )
            )
            by_bucket.setdefault(note.bucket, []).append((note, queue))
        for bucket_name, notes in by_bucket.items():
            cfn = buckets_by_name[bucket_name].node.default_child
            assert isinstance(cfn, s3.CfnBucket)
            cfn.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
                queue_configurations=[
                    s3.CfnBucket.QueueConfigurationProperty(
                        event="s3:ObjectCreated:*",
                        queue=queue.queue_arn,
                        filter=s3.CfnBucket.NotificationFilterProperty(
                            s3_key=s3.CfnBucket.S3KeyFilterProperty(
                                rules=[
                                    s3.CfnBucket.FilterRuleProperty(
                                        name="prefix", value=note.prefix
                                    )
                                ]
                            )
                        ),
                    )
                    for note, queue in notes
                ]
            )
            for _, queue in notes:
                policy = queue.node.try_find_child("Policy")
                assert policy is not None
                cfn.node.add_dependency(policy)


def _construct_id(name: str, settings: Settings) -> str:
    """`objektify-dev-results` → `Results` (ids stay the same from stage to stage)."""
    short = name.removeprefix(f"objektify-{settings.stage}-")
    return "".join(part.title() for part in short.split("-"))
