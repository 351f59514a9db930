"""SQS and SNS: every queue with a DLQ that alarms, visibility fitted to its consumer, the endpoint's
topics delivering raw to the results queue."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match, Template

from chalicelib import resources
from tests.infra.support import ACCOUNT, Synth, arn_of, ref, stage_settings


def _consumer_timeouts(synth: Synth) -> dict[str, int]:
    """Queue logical id → the timeout of the function its SQS event source feeds."""
    found: dict[str, int] = {}
    for function in synth.of_type("AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                found[event["Properties"]["Queue"]["Fn::GetAtt"][0]] = function["Properties"][
                    "Timeout"
                ]
    return found


def test_every_queue_of_the_app_has_a_dlq_after_the_configured_receives(synth: Synth) -> None:
    for spec in resources.queues(stage_settings()):
        _, queue = synth.named("AWS::SQS::Queue", "QueueName", spec.name)
        dlq_id, dlq = synth.named("AWS::SQS::Queue", "QueueName", spec.dlq_name)
        assert queue["Properties"]["RedrivePolicy"] == {
            "deadLetterTargetArn": arn_of(dlq_id),
            "maxReceiveCount": spec.max_receives,
        }
        assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_no_queue_other_than_a_dlq_lacks_a_redrive_policy(synth: Synth) -> None:
    queues = synth.of_type("AWS::SQS::Queue")
    dead_letters = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    for queue_id, queue in queues.items():
        assert queue_id in dead_letters or "RedrivePolicy" in queue["Properties"], queue_id


def test_visibility_is_at_least_six_times_the_consumers_timeout(synth: Synth) -> None:
    consumers = _consumer_timeouts(synth)
    assert len(consumers) == len(resources.queues(stage_settings()))
    for queue_id, timeout in consumers.items():
        visibility = synth.resources[queue_id]["Properties"]["VisibilityTimeout"]
        assert visibility >= 6 * timeout, (queue_id, visibility, timeout)


def test_every_dlq_alarms_on_its_first_message(synth: Synth, template: Template) -> None:
    alarm_topic, _ = synth.named(
        "AWS::SNS::Topic", "TopicName", f"objektify-{stage_settings().stage}-alarms"
    )
    for spec in resources.queues(stage_settings()):
        dlq_id, _ = synth.named("AWS::SQS::Queue", "QueueName", spec.dlq_name)
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [
                    {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}
                ],
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "AlarmActions": [ref(alarm_topic)],
            },
        )


def test_only_this_accounts_cloudwatch_alarms_may_publish_to_the_alarm_topic(synth: Synth) -> None:
    alarm_topic, _ = synth.named(
        "AWS::SNS::Topic", "TopicName", f"objektify-{stage_settings().stage}-alarms"
    )
    (policy,) = [
        p
        for p in synth.of_type("AWS::SNS::TopicPolicy").values()
        if ref(alarm_topic) in p["Properties"]["Topics"]
    ]
    (allow,) = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}


def test_queues_and_topics_are_encrypted_and_tls_only(synth: Synth, template: Template) -> None:
    template.all_resources_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True})
    template.all_resources_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    for kind, key in (("AWS::SQS::QueuePolicy", "Queues"), ("AWS::SNS::TopicPolicy", "Topics")):
        policies = synth.of_type(kind).values()
        covered = {r["Ref"] for p in policies for r in p["Properties"][key]}
        target = "AWS::SQS::Queue" if "SQS" in kind else "AWS::SNS::Topic"
        assert covered == set(synth.of_type(target)), kind
        for policy in policies:
            assert any(
                s["Effect"] == "Deny"
                and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                for s in policy["Properties"]["PolicyDocument"]["Statement"]
            )


def test_the_endpoints_topics_deliver_raw_to_the_results_queue(synth: Synth) -> None:
    settings = stage_settings()
    subscriptions = [s["Properties"] for s in synth.of_type("AWS::SNS::Subscription").values()]
    for sub in resources.subscriptions(settings):
        topic_id, _ = synth.named("AWS::SNS::Topic", "TopicName", sub.topic)
        queue_id, _ = synth.named("AWS::SQS::Queue", "QueueName", sub.queue)
        expected: dict[str, Any] = {
            "Protocol": "sqs",
            "TopicArn": ref(topic_id),
            "Endpoint": arn_of(queue_id),
            "RawMessageDelivery": True,
        }
        assert expected in subscriptions
