"""Least privilege: each function's role allows exactly the calls its code makes, on exactly the
resources it touches. The expectations are written out here from reading the code paths, so a
change of permissions is a visible change of this file."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.support import CONTEXT, Synth, as_list

STAGE_PREFIX = f"objektify-{CONTEXT['stage']}-"
LOGS = {("logs:CreateLogStream", "own logs"), ("logs:PutLogEvents", "own logs")}
CONSUME = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}


def _grants(actions: set[str] | str, *resources: str) -> set[tuple[str, str]]:
    return {
        (a, r)
        for a in as_list(sorted(actions) if isinstance(actions, set) else actions)
        for r in resources
    }


EXPECTED: dict[str, set[tuple[str, str]]] = {
    "api_handler": LOGS
    # Who is calling: profile and erasure marker, consent, quota, restrictions, erasure marker.
    | _grants(
        {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
        "table users",
    )
    | _grants({"dynamodb:GetItem", "dynamodb:PutItem"}, "table terms")
    | _grants("dynamodb:PutItem", "table consents", "table consent-evidence", "table reports")
    # Submit, the owner's view and list, the review queue, deletion, decisions.
    | _grants({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}, "table generations")
    | _grants("dynamodb:Query", "index generations/by_owner", "index generations/review_queue")
    | _grants({"dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"}, "table gallery")
    # Powertools idempotency records.
    | _grants(
        {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
        "table idempotency",
    )
    | _grants({"dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:Query"}, "table audit")
    | _grants({"dynamodb:GetItem", "dynamodb:PutItem"}, "table exports")
    | _grants("s3:PutObject", "objects inputs/inputs/*")
    | _grants({"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, "objects public/images/*")
    | _grants("s3:GetObject", "objects originals/outputs/*", "objects exports/exports/*")
    | _grants("sagemaker:InvokeEndpointAsync", "endpoint generator")
    | _grants("secretsmanager:GetSecretValue", "secret signing-keys", "secret address-hash-key")
    | _grants({"ssm:GetParameter", "ssm:PutParameter"}, "parameter flags")
    | _grants({"sqs:SendMessage", "sqs:GetQueueUrl"}, "queue exports", "queue erasures"),
    "on_inference_result": LOGS
    | _grants("dynamodb:UpdateItem", "table generations")
    | _grants(CONSUME, "queue results"),
    "on_output_created": LOGS
    | _grants({"dynamodb:GetItem", "dynamodb:UpdateItem"}, "table generations")
    | _grants({"dynamodb:BatchGetItem", "dynamodb:UpdateItem"}, "table users")
    | _grants("dynamodb:PutItem", "table gallery", "table audit")
    | _grants({"s3:GetObject", "s3:DeleteObject"}, "objects originals/outputs/*")
    | _grants("s3:PutObject", "objects originals/quarantine/*", "objects public/images/*")
    | _grants("rekognition:DetectModerationLabels", "*")
    | _grants(CONSUME, "queue scan"),
    "sweep_stale_generations": LOGS
    | _grants("dynamodb:UpdateItem", "table generations")
    | _grants("dynamodb:Query", "index generations/open_work"),
    "on_export_requested": LOGS
    | _grants({"dynamodb:GetItem", "dynamodb:UpdateItem"}, "table exports")
    | _grants("dynamodb:BatchGetItem", "table users")
    | _grants(
        "dynamodb:Query",
        "table consents",
        "table consent-evidence",
        "index generations/by_owner",
        "index reports/by_reporter",
        "index audit/by_target",
    )
    | _grants("s3:GetObject", "objects originals/outputs/*")
    | _grants("s3:PutObject", "objects exports/exports/*")
    | _grants(CONSUME, "queue exports"),
    "on_erasure_requested": LOGS
    | _grants({"dynamodb:GetItem", "dynamodb:DeleteItem"}, "table users")
    | _grants({"dynamodb:UpdateItem", "dynamodb:DeleteItem"}, "table generations")
    | _grants(
        "dynamodb:Query",
        "index generations/by_owner",
        "index reports/by_reporter",
        "index audit/by_target",
        "index audit/by_actor",
    )
    | _grants("dynamodb:DeleteItem", "table gallery")
    | _grants(
        {"dynamodb:Query", "dynamodb:BatchWriteItem"}, "table reports", "table consent-evidence"
    )
    | _grants({"dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"}, "table consents")
    | _grants("dynamodb:PutItem", "table audit")
    | _grants({"dynamodb:Query", "dynamodb:DeleteItem"}, "table exports")
    | _grants(
        "s3:DeleteObject",
        "objects inputs/inputs/*",
        "objects originals/outputs/*",
        "objects originals/quarantine/*",
        "objects originals/failures/*",
        "objects public/images/*",
        "objects exports/exports/*",
    )
    | _grants({"cognito-idp:ListUsers", "cognito-idp:AdminDeleteUser"}, "pool users")
    | _grants(CONSUME, "queue erasures"),
    "dataset_export": LOGS
    | _grants("dynamodb:Query", "table gallery")
    | _grants("dynamodb:BatchGetItem", "table generations")
    | _grants("s3:GetObject", "objects public/images/*")
    | _grants({"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, "objects exports/datasets/*"),
}


class Names:
    """Reads a policy resource (Ref, GetAtt, Join, ARN) as `kind name`."""

    def __init__(self, synth: Synth, log_group: str) -> None:
        self.synth, self.log_group = synth, log_group

    def _short(self, name: str) -> str:
        return name.removeprefix(STAGE_PREFIX).removeprefix(f"objektify/{CONTEXT['stage']}/")

    def _of(self, logical_id: str) -> str:
        resource = self.synth.resources[logical_id]
        props, kind = resource["Properties"], resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            return f"table {self._short(props['TableName'])}"
        if kind == "AWS::S3::Bucket":
            return f"objects {self._short(props['BucketName'])}"
        if kind == "AWS::SQS::Queue":
            return f"queue {self._short(props['QueueName'])}"
        if kind == "AWS::SecretsManager::Secret":
            return f"secret {self._short(props['Name'])}"
        if kind == "AWS::SSM::Parameter":
            return f"parameter {props['Name'].rsplit('/', 1)[1]}"
        if kind == "AWS::Cognito::UserPool":
            return "pool users"
        if kind == "AWS::Logs::LogGroup":
            return "own logs" if props.get("LogGroupName") == self.log_group else "other logs"
        raise AssertionError(f"unexpected resource in a policy: {kind}")

    def read(self, resource: Any) -> str:
        if resource == "*":
            return "*"
        if isinstance(resource, str):
            assert resource.startswith("arn:aws:sagemaker:"), resource
            return f"endpoint {self._short(resource.rsplit('/', 1)[1])}"
        if "Ref" in resource:
            return self._of(resource["Ref"])
        if "Fn::GetAtt" in resource:
            return self._of(resource["Fn::GetAtt"][0])
        parts = resource["Fn::Join"][1]
        refs = [p for p in parts if isinstance(p, dict)]
        assert len(refs) == 1, resource
        base = self.read(refs[0])
        tail = "".join(p for p in parts if isinstance(p, str))
        if base.startswith("table "):
            return f"index {base.removeprefix('table ')}/{tail.removeprefix('/index/')}"
        if base.startswith("objects "):
            return f"{base}{tail}"
        return base  # an ARN written around a name (the SSM parameter)


def granted(synth: Synth, name: str) -> set[tuple[str, str]]:
    props = synth.function(name)["Properties"]
    names = Names(synth, f"/aws/lambda/{props['FunctionName']}")
    found = set()
    for statement in synth.role_statements(props["Role"]):
        assert statement["Effect"] == "Allow"
        assert "Condition" not in statement and "NotAction" not in statement
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                found.add((action, names.read(resource)))
    return found


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_function_may_do_exactly_what_its_code_does(synth: Synth, name: str) -> None:
    found = granted(synth, name)
    assert found - EXPECTED[name] == set(), "more than the code needs"
    assert EXPECTED[name] - found == set(), "less than the code needs"


def test_no_function_role_has_managed_policies_or_service_wide_actions(synth: Synth) -> None:
    for name in EXPECTED:
        role_id = synth.function(name)["Properties"]["Role"]["Fn::GetAtt"][0]
        role = synth.resources[role_id]["Properties"]
        assert "ManagedPolicyArns" not in role
        assert role["AssumeRolePolicyDocument"]["Statement"] == [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
            }
        ]
        actions = [
            a
            for policy in role["Policies"]
            for st in policy["PolicyDocument"]["Statement"]
            for a in as_list(st["Action"])
        ]
        assert [a for a in actions if "*" in a] == []
