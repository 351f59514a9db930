"""The generations table's stream and the function that reads it: the table keeps new and old
images, and the function's event source mapping reads this stack's stream (not the placeholder
ARN Chalice packages), reports the records that failed, bisects a failing batch and sends one
that keeps failing to a queue of its own, whose first message alarms."""

from __future__ import annotations

from chalicelib.events import changes
from tests.infra.support import Synth, arn_of, deployed_name, ref, stage_settings


def test_the_generations_table_has_a_stream_of_new_and_old_images(synth: Synth) -> None:
    table_id, table = synth.named(
        "AWS::DynamoDB::Table", "TableName", deployed_name(changes.get_settings().generations_table)
    )
    assert table["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table_id
    # No other table streams: nothing else reads one.
    streaming = [
        r["Properties"]["TableName"]
        for r in synth.of_type("AWS::DynamoDB::Table").values()
        if "StreamSpecification" in r["Properties"]
    ]
    assert streaming == [table["Properties"]["TableName"]]


def test_the_change_function_reads_the_tables_own_stream(synth: Synth) -> None:
    table_id, _ = synth.named(
        "AWS::DynamoDB::Table", "TableName", deployed_name(changes.get_settings().generations_table)
    )
    function = synth.function("on_generation_change")
    (event,) = function["Properties"]["Events"].values()
    assert event["Type"] == "DynamoDB"
    source = event["Properties"]
    assert source["Stream"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert changes.STREAM_ARN not in str(function)
    assert source["StartingPosition"] == "TRIM_HORIZON"
    assert source["BatchSize"] == 100
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["BisectBatchOnFunctionError"] is True
    assert 0 < source["MaximumRetryAttempts"] <= 10
    assert source["ParallelizationFactor"] == 1  # an item's changes in their order
    failures = source["DestinationConfig"]["OnFailure"]
    assert failures["Type"] == "SQS"
    queue_id = failures["Destination"]["Fn::GetAtt"][0]
    assert failures["Destination"] == arn_of(queue_id)
    queue = synth.resources[queue_id]["Properties"]
    assert queue["QueueName"].endswith("-on-generation-change-failures")
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["SqsManagedSseEnabled"] is True
    dlq_id = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert synth.resources[dlq_id]["Properties"]["QueueName"] == queue["QueueName"] + "-dlq"
    assert function["Properties"]["ReservedConcurrentExecutions"] == 5


def test_a_batch_that_failed_every_retry_alarms_at_once(synth: Synth) -> None:
    alarm_topic, _ = synth.named(
        "AWS::SNS::Topic", "TopicName", f"objektify-{stage_settings().stage}-alarms"
    )
    function = synth.function("on_generation_change")
    (event,) = function["Properties"]["Events"].values()
    queue_id = event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    (alarm,) = [
        a["Properties"]
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
    ]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
    )
    assert alarm["AlarmActions"] == [ref(alarm_topic)]
