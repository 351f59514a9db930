"""The tables' streams and the functions that read them (the generations table's, and the
statements table's): each table keeps new and old images, and its function's event source
mapping reads this stack's stream (not the placeholder ARN Chalice packages), reports the
records that failed, bisects a failing batch and sends one that keeps failing to a queue of its
own, whose first message alarms."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.events import changes, decisions
from chalicelib.settings import get_settings
from tests.infra.support import Synth, arn_of, deployed_name, ref, stage_settings

# (function, its table's settings field, the placeholder ARN its handler names, its concurrency)
STREAMS = [
    ("on_generation_change", "generations_table", changes.STREAM_ARN, 5),
    ("on_decision_change", "statements_table", decisions.STREAM_ARN, 2),
]
each_stream = pytest.mark.parametrize(
    ("function_name", "table", "placeholder", "reserved"), STREAMS
)


def _table(synth: Synth, table: str) -> tuple[str, dict[str, Any]]:
    return synth.named(
        "AWS::DynamoDB::Table", "TableName", deployed_name(getattr(get_settings(), table))
    )


def test_the_streamed_tables_keep_new_and_old_images_and_no_other_table_streams(
    synth: Synth,
) -> None:
    names = []
    for _, table, _, _ in STREAMS:
        table_id, found = _table(synth, table)
        assert found["Properties"]["StreamSpecification"] == {
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        }
        assert table_id
        names.append(found["Properties"]["TableName"])
    # No other table streams: nothing else reads one.
    streaming = [
        r["Properties"]["TableName"]
        for r in synth.of_type("AWS::DynamoDB::Table").values()
        if "StreamSpecification" in r["Properties"]
    ]
    assert sorted(streaming) == sorted(names)


@each_stream
def test_the_change_function_reads_the_tables_own_stream(
    synth: Synth, function_name: str, table: str, placeholder: str, reserved: int
) -> None:
    table_id, _ = _table(synth, table)
    function = synth.function(function_name)
    (event,) = function["Properties"]["Events"].values()
    assert event["Type"] == "DynamoDB"
    source = event["Properties"]
    assert source["Stream"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert placeholder not in str(function)
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
    assert queue["QueueName"].endswith("-" + function_name.replace("_", "-") + "-failures")
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["SqsManagedSseEnabled"] is True
    dlq_id = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert synth.resources[dlq_id]["Properties"]["QueueName"] == queue["QueueName"] + "-dlq"
    assert function["Properties"]["ReservedConcurrentExecutions"] == reserved


@each_stream
def test_a_batch_that_failed_every_retry_alarms_at_once(
    synth: Synth, function_name: str, table: str, placeholder: str, reserved: int
) -> None:
    alarm_topic, _ = synth.named(
        "AWS::SNS::Topic", "TopicName", f"objektify-{stage_settings().stage}-alarms"
    )
    function = synth.function(function_name)
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
