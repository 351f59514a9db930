"""DynamoDB tables derived from the PynamoDB models (`chalicelib.models.TABLE_MODELS`).

A new model in TABLE_MODELS gets its table here with no change to this file: keys, attribute
types and indexes come from the model's own schema, TTL from its TTLAttribute, a stream from
its Meta.stream_view_type, the name from the settings field that names it. Every table keeps
user data: on-demand, point-in-time recovery, encrypted, deletion-protected and retained when
the stack is deleted or the table replaced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct
from pynamodb.models import Model

from chalicelib.settings import Settings

_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None
    projection: str
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableShape:
    """A model's table as DynamoDB sees it: keys with their types, indexes and TTL."""

    setting: str
    name: str
    partition_key: str
    sort_key: str | None
    attribute_types: dict[str, str]
    global_indexes: tuple[Index, ...]
    local_indexes: tuple[Index, ...]
    ttl_attribute: str | None
    stream_view_type: str | None = None  # the model's Meta.stream_view_type


def table_setting(settings: Settings, table_name: str) -> str:
    """The settings field (e.g. `users_table`) whose value is `table_name`."""
    matches = [
        f.name
        for f in fields(settings)
        if f.name.endswith("_table") and getattr(settings, f.name) == table_name
    ]
    if len(matches) != 1:
        raise ValueError(f"no single *_table setting names {table_name!r}: {matches}")
    return matches[0]


def _keys(key_schema: Sequence[Mapping[str, Any]]) -> tuple[str, str | None]:
    by_type = {k["KeyType"]: k["AttributeName"] for k in key_schema}
    return by_type["HASH"], by_type.get("RANGE")


def _index(raw: Mapping[str, Any]) -> Index:
    partition, sort = _keys(raw["key_schema"])
    projection = raw["projection"]
    return Index(
        raw["index_name"],
        partition,
        sort,
        projection["ProjectionType"],
        tuple(projection.get("NonKeyAttributes", ())),
    )


def shape_of(model: type[Model], settings: Settings) -> TableShape:
    # PynamoDB's own description of the table, the one `create_table` sends (local stack).
    schema = model._get_schema()
    partition, sort = _keys(schema["key_schema"])
    ttl = model._ttl_attribute()  # type: ignore[no-untyped-call]
    return TableShape(
        setting=table_setting(settings, model.Meta.table_name),
        name=model.Meta.table_name,
        partition_key=partition,
        sort_key=sort,
        attribute_types={
            a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]
        },
        global_indexes=tuple(_index(i) for i in schema["global_secondary_indexes"]),
        local_indexes=tuple(_index(i) for i in schema["local_secondary_indexes"]),
        ttl_attribute=ttl.attr_name if ttl is not None else None,
        stream_view_type=getattr(model.Meta, "stream_view_type", None),
    )


class Tables(Construct):
    """One table per model in TABLE_MODELS, reachable by the settings field that names it."""

    def __init__(
        self, scope: Construct, id: str, settings: Settings, models: tuple[type[Model], ...]
    ) -> None:
        super().__init__(scope, id)
        self.shapes: dict[str, TableShape] = {}
        self.by_setting: dict[str, dynamodb.Table] = {}
        for model in models:
            shape = shape_of(model, settings)
            self.shapes[shape.setting] = shape
            self.by_setting[shape.setting] = self._table(model.__name__, shape)

    def _table(self, id: str, shape: TableShape) -> dynamodb.Table:
        def attribute(name: str) -> dynamodb.Attribute:
            return dynamodb.Attribute(name=name, type=_TYPES[shape.attribute_types[name]])

        table = dynamodb.Table(
            self,
            id,
            table_name=shape.name,
            partition_key=attribute(shape.partition_key),
            sort_key=attribute(shape.sort_key) if shape.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=shape.ttl_attribute,
            # A model that names a stream view has its table's stream (24 h of its changes).
            stream=dynamodb.StreamViewType(shape.stream_view_type)
            if shape.stream_view_type
            else None,
            deletion_protection=True,
            # User data outlives any stack operation: never DESTROY.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        for index in shape.global_indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=attribute(index.partition_key),
                sort_key=attribute(index.sort_key) if index.sort_key else None,
                projection_type=_PROJECTIONS[index.projection],
                non_key_attributes=list(index.non_key_attributes) or None,
            )
        for index in shape.local_indexes:
            assert index.sort_key is not None  # DynamoDB requires one
            table.add_local_secondary_index(
                index_name=index.name,
                sort_key=attribute(index.sort_key),
                projection_type=_PROJECTIONS[index.projection],
                non_key_attributes=list(index.non_key_attributes) or None,
            )
        return table
