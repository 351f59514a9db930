"""Content credentials in AWS: the signing key stays in KMS (an asymmetric P-256 key for ES256,
kept when the stack goes), its certificate chain is an SSM parameter an operator fills, and only
the functions that publish may sign with the one and read the other. The fingerprints table:
the scan writes it, the API's check reads it, nothing else touches it."""

from __future__ import annotations

from typing import Any

from infra.credentials import PLACEHOLDER
from infra.functions import FUNCTIONS
from tests.infra.support import CONTEXT, Synth, as_list, stage_settings

PUBLISHERS = {"api_handler", "on_output_created"}


def _key(synth: Synth) -> tuple[str, dict[str, Any]]:
    """The key the settings' alias names (the stack has other keys: its topics')."""
    _, alias = synth.named("AWS::KMS::Alias", "AliasName", stage_settings().credentials_key_id)
    key_id = alias["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]
    return key_id, synth.resources[key_id]


def _statements(synth: Synth, name: str) -> list[dict[str, Any]]:
    return synth.role_statements(synth.function(name)["Properties"]["Role"])


def _granted(synth: Synth, name: str, action: str) -> list[Any]:
    return [
        resource
        for statement in _statements(synth, name)
        if action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]


def test_the_signing_key_is_an_asymmetric_p256_signing_key_kept_when_the_stack_goes(
    synth: Synth,
) -> None:
    _, key = _key(synth)
    props = key["Properties"]
    assert props["KeySpec"] == "ECC_NIST_P256"
    assert props["KeyUsage"] == "SIGN_VERIFY"
    assert props.get("EnableKeyRotation") is not True  # KMS cannot rotate asymmetric keys
    assert key["DeletionPolicy"] == "Retain"
    assert key["UpdateReplacePolicy"] == "Retain"
    signing = [k for k in synth.of_type("AWS::KMS::Key").values() if "KeyUsage" in k["Properties"]]
    assert signing == [key]  # the one signing key


def test_the_key_policy_gives_no_one_but_the_account_the_key(synth: Synth) -> None:
    _, key = _key(synth)
    # The account's IAM decides who uses it (the publishing functions' roles: kms:Sign).
    principals = [s["Principal"] for s in key["Properties"]["KeyPolicy"]["Statement"]]
    assert principals == [{"AWS": f"arn:aws:iam::{CONTEXT['account']}:root"}]


def test_the_chain_parameter_starts_as_a_placeholder_named_as_the_settings_say(
    synth: Synth,
) -> None:
    name = stage_settings().credentials_chain_parameter
    _, parameter = synth.named("AWS::SSM::Parameter", "Name", name)
    props = parameter["Properties"]
    assert props["Type"] == "String"
    assert props["Value"] == PLACEHOLDER
    assert "objektify credentials dev-chain" in props["Value"]
    assert props["Tier"] == "Advanced"  # a CA's chain outgrows 4 KB


def test_the_functions_are_told_the_key_arn_and_the_chain_parameter(synth: Synth) -> None:
    key_id, _ = _key(synth)
    chain_id, _ = synth.named(
        "AWS::SSM::Parameter", "Name", stage_settings().credentials_chain_parameter
    )
    for name in PUBLISHERS:
        variables = synth.function(name)["Properties"]["Environment"]["Variables"]
        assert variables["OBJEKTIFY_CREDENTIALS_KEY_ID"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert variables["OBJEKTIFY_CREDENTIALS_CHAIN_PARAMETER"] == {"Ref": chain_id}


def test_only_the_functions_that_publish_may_sign_and_read_the_chain(synth: Synth) -> None:
    key_id, _ = _key(synth)
    chain_id, _ = synth.named(
        "AWS::SSM::Parameter", "Name", stage_settings().credentials_chain_parameter
    )
    chain_arn = None
    for spec in FUNCTIONS:
        signs = _granted(synth, spec.name, "kms:Sign")
        reads = [
            r
            for r in _granted(synth, spec.name, "ssm:GetParameter")
            if {"Ref": chain_id} in r.get("Fn::Join", [None, []])[1]
        ]
        if spec.name in PUBLISHERS:
            assert signs == [{"Fn::GetAtt": [key_id, "Arn"]}], spec.name
            (chain_arn,) = reads
        else:
            assert signs == [] and reads == [], spec.name
        # The public key is for the operators' CLI, never a function's; nothing else of KMS.
        kms = {
            a for s in _statements(synth, spec.name) for a in as_list(s["Action"]) if "kms:" in a
        }
        assert kms <= {"kms:Sign"}, spec.name
    assert chain_arn is not None


def test_the_scan_writes_fingerprints_and_the_api_only_queries_them(synth: Synth) -> None:
    table_id, _ = synth.named(
        "AWS::DynamoDB::Table", "TableName", stage_settings().fingerprints_table
    )
    arn = {"Fn::GetAtt": [table_id, "Arn"]}
    for spec in FUNCTIONS:
        on_table = {
            a
            for s in _statements(synth, spec.name)
            if arn in as_list(s["Resource"])
            for a in as_list(s["Action"])
        }
        expected = {
            "on_output_created": {"dynamodb:BatchWriteItem"},
            "api_handler": {"dynamodb:Query"},
        }.get(spec.name, set())
        assert on_table == expected, spec.name


def test_the_fingerprints_table_keeps_its_items(synth: Synth) -> None:
    _, table = synth.named("AWS::DynamoDB::Table", "TableName", stage_settings().fingerprints_table)
    assert table["DeletionPolicy"] == "Retain"
    keys = {k["KeyType"]: k["AttributeName"] for k in table["Properties"]["KeySchema"]}
    assert keys == {"HASH": "band_key", "RANGE": "image_id"}
