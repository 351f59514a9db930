"""The blocked hashes table (issue 20): kept like every table of user-facing decisions, written
only where a decision blocks or unblocks an image's hash, and otherwise only read."""

from __future__ import annotations

from typing import Any

from infra.functions import FUNCTIONS
from tests.infra.support import Synth, as_list, stage_settings


def _statements(synth: Synth, name: str) -> list[dict[str, Any]]:
    return synth.role_statements(synth.function(name)["Properties"]["Role"])


def test_the_blocked_hashes_table_is_indexed_by_band_and_kept(synth: Synth) -> None:
    _, table = synth.named(
        "AWS::DynamoDB::Table", "TableName", stage_settings().blocked_hashes_table
    )
    assert table["DeletionPolicy"] == "Retain"
    properties = table["Properties"]
    keys = {k["KeyType"]: k["AttributeName"] for k in properties["KeySchema"]}
    assert keys == {"HASH": "band_key", "RANGE": "entry_id"}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["DeletionProtectionEnabled"] is True


def test_removals_and_rejections_write_blocked_hashes_and_nothing_else_does(synth: Synth) -> None:
    table_id, _ = synth.named(
        "AWS::DynamoDB::Table", "TableName", stage_settings().blocked_hashes_table
    )
    arn = {"Fn::GetAtt": [table_id, "Arn"]}
    writers = set()
    for spec in FUNCTIONS:
        on_table = {
            a
            for s in _statements(synth, spec.name)
            if arn in as_list(s["Resource"])
            for a in as_list(s["Action"])
        }
        # A look-up is Queries; blocking and unblocking an image one BatchWriteItem.
        assert on_table <= {"dynamodb:Query", "dynamodb:BatchWriteItem"}, spec.name
        if "dynamodb:BatchWriteItem" in on_table:
            writers.add(spec.name)
    # A moderator's removal (the API) and the output scan's rejection.
    assert writers == {"api_handler", "on_output_created"}
