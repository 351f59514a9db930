"""The emulator's Query reads the partition asked for alone (local/dynamodb_partitions.py), and
answers exactly what moto answered: each Query's pages equal the partition as a Scan finds it,
in key order either way, for tables with and without a sort key, and index Queries too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import moto
import pytest

from local import dynamodb_partitions


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in [k for k in __import__("os").environ if k.startswith("AWS_ENDPOINT")]:
        monkeypatch.delenv(name)
    dynamodb_partitions.install()
    dynamodb_partitions.install()  # idempotent
    with moto.mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="banded",
            KeySchema=[
                {"AttributeName": "band", "KeyType": "HASH"},
                {"AttributeName": "entry", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "band", "AttributeType": "S"},
                {"AttributeName": "entry", "AttributeType": "S"},
                {"AttributeName": "kind", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_kind",
                    "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.create_table(
            TableName="plain",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for band in range(5):
            for entry in range(7):
                client.put_item(
                    TableName="banded",
                    Item={
                        "band": {"S": f"b{band}"},
                        "entry": {"S": f"e{(entry * 3) % 7}"},
                        "kind": {"S": "odd" if entry % 2 else "even"},
                    },
                )
        for n in range(4):
            client.put_item(TableName="plain", Item={"id": {"S": f"i{n}"}})
        yield client


def pages(client: Any, **query: Any) -> list[list[str]]:
    found, start = [], None
    while True:
        answer = client.query(**query, **({"ExclusiveStartKey": start} if start else {}))
        found.append([item["entry"]["S"] for item in answer["Items"]])
        start = answer.get("LastEvaluatedKey")
        if not start:
            return found


def test_a_query_answers_its_partition_in_key_order_page_by_page(dynamodb: Any) -> None:
    everything = dynamodb.scan(TableName="banded")["Items"]
    for band in ("b0", "b3"):
        expected = sorted(i["entry"]["S"] for i in everything if i["band"]["S"] == band)
        query = {
            "TableName": "banded",
            "KeyConditionExpression": "band = :b",
            "ExpressionAttributeValues": {":b": {"S": band}},
        }
        assert pages(dynamodb, **query) == [expected]
        assert pages(dynamodb, **query, Limit=3) == [
            expected[0:3],
            expected[3:6],
            expected[6:],
        ]
        backwards = pages(dynamodb, **query, ScanIndexForward=False)
        assert backwards == [list(reversed(expected))]
    absent = {
        "TableName": "banded",
        "KeyConditionExpression": "band = :b",
        "ExpressionAttributeValues": {":b": {"S": "nowhere"}},
    }
    assert pages(dynamodb, **absent) == [[]]


def test_tables_without_a_sort_key_and_index_queries_answer_as_before(dynamodb: Any) -> None:
    answer = dynamodb.query(
        TableName="plain",
        KeyConditionExpression="id = :i",
        ExpressionAttributeValues={":i": {"S": "i2"}},
    )
    assert [item["id"]["S"] for item in answer["Items"]] == ["i2"]
    odd = dynamodb.query(
        TableName="banded",
        IndexName="by_kind",
        KeyConditionExpression="kind = :k",
        ExpressionAttributeValues={":k": {"S": "odd"}},
    )["Items"]
    assert len(odd) == 5 * 3
    assert len(dynamodb.scan(TableName="banded")["Items"]) == 35
