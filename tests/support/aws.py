"""Direct looks at the emulator's state, for assertions a user-facing API cannot make."""

from __future__ import annotations

from typing import Any

import boto3

from local.config import StackState


def client(state: StackState, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=state.aws_endpoint,
        region_name=state.region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def name(state: StackState, suffix: str) -> str:
    """A resource name as the app's settings derive it for the local stage."""
    return f"objektify-{state.stage}-{suffix}"


def snapshot(state: StackState) -> dict[str, list[str]]:
    """Every item of every table and every object key (with its ETag) of every bucket."""
    import json

    dynamodb, s3 = client(state, "dynamodb"), client(state, "s3")
    found: dict[str, list[str]] = {}
    for table in dynamodb.list_tables()["TableNames"]:
        items = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            items += [json.dumps(item, sort_keys=True, default=str) for item in page["Items"]]
        found[f"table:{table}"] = sorted(items)
    for bucket in s3.list_buckets()["Buckets"]:
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            keys += [f"{o['Key']} {o['ETag']}" for o in page.get("Contents", [])]
        found[f"bucket:{bucket['Name']}"] = sorted(keys)
    return found


def quiesce(state: StackState, timeout: float = 90) -> None:
    """Wait until no message waits in any queue and no generation is still in flight."""
    import time

    sqs, dynamodb = client(state, "sqs"), client(state, "dynamodb")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = 0
        for url in sqs.list_queues().get("QueueUrls", []):
            if url.endswith("-dlq"):
                continue
            attrs = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            busy += int(attrs["ApproximateNumberOfMessages"]) + int(
                attrs["ApproximateNumberOfMessagesNotVisible"]
            )
        table = name(state, "generations")
        items = dynamodb.scan(
            TableName=table, ProjectionExpression="#s", ExpressionAttributeNames={"#s": "status"}
        )["Items"]
        busy += sum(1 for i in items if i["status"]["S"] in ("queued", "scanning"))
        if busy == 0:
            return
        time.sleep(0.5)
    raise AssertionError("the stack did not settle")


def differences(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    changed = []
    for key in sorted(set(before) | set(after)):
        old, new = set(before.get(key, [])), set(after.get(key, []))
        if old != new:
            changed.append(f"{key}: +{len(new - old)} -{len(old - new)} {sorted(new ^ old)[:2]}")
    return changed
