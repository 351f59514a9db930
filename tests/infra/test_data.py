"""DynamoDB: one table per model in TABLE_MODELS, shaped by the model, and never lost."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from pynamodb.models import Model

from chalicelib.models import TABLE_MODELS
from tests.infra.support import Synth, deployed_name


def _key_schema(raw: list[dict[str, str]]) -> list[dict[str, str]]:
    return sorted(
        ({"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in raw),
        key=lambda k: k["KeyType"],
    )


@pytest.mark.parametrize("model", TABLE_MODELS, ids=lambda m: m.__name__)
def test_every_model_has_its_table_with_its_keys_and_indexes(
    synth: Synth, model: type[Model]
) -> None:
    schema = model._get_schema()
    _, table = synth.named(
        "AWS::DynamoDB::Table", "TableName", deployed_name(model.Meta.table_name, "_table")
    )
    props: dict[str, Any] = table["Properties"]
    assert _key_schema(props["KeySchema"]) == _key_schema(schema["key_schema"])
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(
        schema["attribute_definitions"], key=str
    )
    deployed = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    assert set(deployed) == {i["index_name"] for i in schema["global_secondary_indexes"]}
    for index in schema["global_secondary_indexes"]:
        assert _key_schema(deployed[index["index_name"]]["KeySchema"]) == _key_schema(
            index["key_schema"]
        )
        assert deployed[index["index_name"]]["Projection"] == index["projection"]
    ttl = model._ttl_attribute()
    if ttl is None:
        assert "TimeToLiveSpecification" not in props
    else:
        assert props["TimeToLiveSpecification"] == {"AttributeName": ttl.attr_name, "Enabled": True}


def test_there_is_no_table_without_a_model(template: Template) -> None:
    template.resource_count_is("AWS::DynamoDB::Table", len(TABLE_MODELS))


def test_every_table_is_on_demand_recoverable_encrypted_and_retained(template: Template) -> None:
    tables = template.find_resources("AWS::DynamoDB::Table")
    for name, table in tables.items():
        assert table["DeletionPolicy"] == "Retain", name
        assert table["UpdateReplacePolicy"] == "Retain", name
    template.all_resources_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
            "DeletionProtectionEnabled": True,
            "ProvisionedThroughput": Match.absent(),
        },
    )


def test_the_gallery_table_ranks_by_likes_in_a_keys_only_index(synth: Synth) -> None:
    """`top` pages read the sparse by_likes index (rank items only) and then the entries."""
    from chalicelib.models.gallery import GalleryEntry

    _, table = synth.named(
        "AWS::DynamoDB::Table", "TableName", deployed_name(GalleryEntry.Meta.table_name, "_table")
    )
    indexes = {i["IndexName"]: i for i in table["Properties"]["GlobalSecondaryIndexes"]}
    assert _key_schema(indexes["by_likes"]["KeySchema"]) == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "rank_likes", "KeyType": "RANGE"},
    ]
    assert indexes["by_likes"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_an_api_key_is_found_by_its_hash_in_the_api_keys_table(synth: Synth) -> None:
    """Authentication reads one item by the key's hash: the table's partition key, no index
    (an eventually consistent index could still hold a revoked key) and no TTL (a key lives
    until revoked or erased)."""
    from chalicelib.models.api_keys import ApiKeyCount, ApiKeyCredential, ApiKeyEntry

    _, table = synth.named(
        "AWS::DynamoDB::Table",
        "TableName",
        deployed_name(ApiKeyCredential.Meta.table_name, "_table"),
    )
    props = table["Properties"]
    assert _key_schema(props["KeySchema"]) == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert "GlobalSecondaryIndexes" not in props
    assert "TimeToLiveSpecification" not in props
    # The owner's entries and count share the table and its key schema.
    for model in (ApiKeyEntry, ApiKeyCount):
        assert model.Meta.table_name == ApiKeyCredential.Meta.table_name
        assert _key_schema(model._get_schema()["key_schema"]) == _key_schema(
            ApiKeyCredential._get_schema()["key_schema"]
        )
