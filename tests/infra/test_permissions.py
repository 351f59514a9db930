"""Least privilege: each function's role allows exactly the calls its code makes, on exactly the
resources it touches. The expectations are written out here from reading the code paths, so a
change of permissions is a visible change of this file."""

from __future__ import annotations

import json
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
    # A new API key's and an approval's transactions check the owner's standing.
    | _grants("dynamodb:ConditionCheckItem", "table users")
    | _grants({"dynamodb:GetItem", "dynamodb:PutItem"}, "table terms")
    | _grants("dynamodb:PutItem", "table consents", "table consent-evidence", "table reports")
    # Submit, the owner's view and list, the review queue, deletion, decisions.
    | _grants({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}, "table generations")
    | _grants("dynamodb:Query", "index generations/by_owner", "index generations/review_queue")
    # A rename rewrites the creator's entries with the name (UpdateItem).
    | _grants(
        {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
        "table gallery",
    )
    # A display name's claim, taken and released in the rename's transaction.
    | _grants({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}, "table names")
    # Idempotency-Key claims, written in the submit's transaction.
    | _grants({"dynamodb:GetItem", "dynamodb:PutItem"}, "table idempotency")
    | _grants({"dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:Query"}, "table audit")
    # An export and the user's place in progress; both withdrawn if the work was not queued.
    | _grants({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}, "table exports")
    # A submit claims a quota slot in its transaction; a lost claim reads the user's slots.
    | _grants({"dynamodb:UpdateItem", "dynamodb:Query"}, "table quota")
    # Statements of reasons with decisions; the user's page; appeals filed and decided.
    | _grants(
        {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
        "table statements",
        "table notices",
    )
    | _grants("dynamodb:Query", "index statements/by_subject", "index statements/open_appeals")
    # Notices from anyone, a queue page's in one batch, answered by the decision; the
    # notifier's contact, shortened then.
    | _grants("dynamodb:BatchGetItem", "table notices")
    | _grants("dynamodb:Query", "index notices/by_image")
    | _grants({"dynamodb:PutItem", "dynamodb:UpdateItem"}, "table notice-contacts")
    # The transparency report's day counters: added to in each decision's transaction, read
    # in batches by the report (no Scan of the history).
    | _grants({"dynamodb:BatchGetItem", "dynamodb:UpdateItem"}, "table report-days")
    | _grants({"s3:PutObject", "s3:GetObject", "s3:DeleteObject"}, "objects inputs/inputs/*")
    | _grants({"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, "objects public/images/*")
    | _grants("s3:GetObject", "objects originals/outputs/*", "objects exports/exports/*")
    | _grants("sagemaker:InvokeEndpointAsync", "endpoint generator")
    | _grants("secretsmanager:GetSecretValue", "secret signing-keys", "secret address-hash-key")
    | _grants({"ssm:GetParameter", "ssm:PutParameter"}, "parameter flags")
    | _grants({"sqs:SendMessage", "sqs:GetQueueUrl"}, "queue exports", "queue erasures")
    # A restriction's target: its account by sub, then its groups (who may restrict whom).
    | _grants({"cognito-idp:ListUsers", "cognito-idp:AdminListGroupsForUser"}, "pool users")
    # Publishing on approval signs the copies' C2PA manifests; the check reads manifests
    # (against the chain) and looks fingerprints up, band by band.
    | _grants("kms:Sign", "key content-credentials")
    | _grants("ssm:GetParameter", "parameter content-credentials-chain")
    | _grants("dynamodb:Query", "table fingerprints")
    # A removal blocks the image's hash for uploads; a reversed decision unblocks it.
    | _grants("dynamodb:BatchWriteItem", "table blocked-hashes")
    # The caller's webhook and its deliveries; a queued generation's place (counters).
    | _grants(
        {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:BatchWriteItem"},
        "table webhooks",
    )
    | _grants("dynamodb:BatchGetItem", "table queue-counters")
    # Personal API keys: verified by GetItem, use noted by UpdateItem, made and revoked in
    # transactions (Put, Delete, Update), listed by Query and BatchGetItem.
    | _grants(
        {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
        },
        "table api-keys",
    )
    # Uploads: recorded with the quota's unit, read by their owner, marked used by a generation.
    | _grants({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}, "table uploads")
    # The presigned POST is signed with this role: one object under incoming/.
    | _grants("s3:PutObject", "objects uploads/incoming/*")
    # A generation reads the clean copy and removes its expiry tag; moderators' audited links.
    | _grants({"s3:GetObject", "s3:DeleteObjectTagging"}, "objects uploads/clean/*")
    | _grants("s3:GetObject", "objects uploads/quarantine/incoming/*"),
    "on_inference_result": LOGS
    | _grants("dynamodb:UpdateItem", "table generations")
    | _grants(CONSUME, "queue results"),
    "on_output_created": LOGS
    | _grants({"dynamodb:GetItem", "dynamodb:UpdateItem"}, "table generations")
    # The strike policy's profile; the creator's display name on the gallery entries; the
    # publish's transaction checks the creator's standing.
    | _grants(
        {
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:UpdateItem",
            "dynamodb:ConditionCheckItem",
        },
        "table users",
    )
    | _grants("dynamodb:PutItem", "table gallery", "table audit", "table statements")
    | _grants("dynamodb:UpdateItem", "table report-days")
    | _grants({"s3:GetObject", "s3:DeleteObject"}, "objects originals/outputs/*")
    | _grants("s3:PutObject", "objects originals/quarantine/*", "objects public/images/*")
    | _grants("rekognition:DetectModerationLabels", "*")
    | _grants(CONSUME, "queue scan")
    # A clean output is published, signed; every valid output's fingerprint is recorded.
    | _grants("kms:Sign", "key content-credentials")
    | _grants("ssm:GetParameter", "parameter content-credentials-chain")
    | _grants("dynamodb:BatchWriteItem", "table fingerprints")
    # A rejected output's hash is blocked for uploads.
    | _grants("dynamodb:BatchWriteItem", "table blocked-hashes"),
    "on_upload_created": LOGS
    | _grants({"dynamodb:GetItem", "dynamodb:UpdateItem"}, "table uploads")
    # A rejection's strike; the strike policy reads the profile and may suspend.
    | _grants({"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"}, "table users")
    | _grants("dynamodb:PutItem", "table audit", "table statements")
    | _grants("dynamodb:UpdateItem", "table report-days")
    | _grants("dynamodb:Query", "table blocked-hashes")
    | _grants({"s3:GetObject", "s3:DeleteObject"}, "objects uploads/incoming/*")
    | _grants({"s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject"}, "objects uploads/clean/*")
    | _grants({"s3:PutObject", "s3:DeleteObject"}, "objects uploads/quarantine/incoming/*")
    | _grants("rekognition:DetectModerationLabels", "*")
    | _grants(CONSUME, "queue upload-scan"),
    "sweep_stale_generations": LOGS
    | _grants({"dynamodb:GetItem", "dynamodb:UpdateItem"}, "table generations")
    | _grants("dynamodb:Query", "index generations/open_work")
    | _grants("sagemaker:InvokeEndpointAsync", "endpoint generator"),
    "on_export_requested": LOGS
    # Ready, and the user's place in progress freed.
    | _grants({"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}, "table exports")
    | _grants("dynamodb:BatchGetItem", "table users")
    | _grants(
        "dynamodb:Query",
        "table consents",
        "table consent-evidence",
        "index generations/by_owner",
        "index reports/by_reporter",
        "index audit/by_target",
        "table quota",  # the slots in use, in the export
        "index statements/by_subject",
    )
    | _grants("s3:GetObject", "objects originals/outputs/*")
    # The archive as a multipart upload, aborted if it fails.
    | _grants({"s3:PutObject", "s3:AbortMultipartUpload"}, "objects exports/exports/*")
    | _grants({"dynamodb:GetItem", "dynamodb:Query"}, "table webhooks")
    | _grants("dynamodb:BatchGetItem", "table queue-counters")
    | _grants({"dynamodb:Query", "dynamodb:BatchGetItem"}, "table api-keys")
    # The user's uploads and the ready ones' clean copies.
    | _grants("dynamodb:Query", "index uploads/owner_index")
    | _grants("s3:GetObject", "objects uploads/clean/*")
    | _grants(CONSUME, "queue exports"),
    "on_erasure_requested": LOGS
    # The display name leaves the profile, and its claim is freed, before the profile goes.
    | _grants({"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}, "table users")
    | _grants("dynamodb:DeleteItem", "table names")
    | _grants({"dynamodb:UpdateItem", "dynamodb:DeleteItem"}, "table generations")
    | _grants(
        "dynamodb:Query",
        "index generations/by_owner",
        "index reports/by_reporter",
        "index audit/by_target",
        "index audit/by_actor",
        "index statements/by_subject",
    )
    | _grants("dynamodb:DeleteItem", "table gallery")
    | _grants(
        {"dynamodb:Query", "dynamodb:BatchWriteItem"},
        "table reports",
        "table consent-evidence",
        "table quota",  # the user's quota slots released
    )
    | _grants({"dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"}, "table consents")
    | _grants("dynamodb:PutItem", "table audit", "table statements")  # anonymised in place
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
    | _grants({"dynamodb:Query", "dynamodb:BatchWriteItem"}, "table webhooks")
    | _grants({"dynamodb:Query", "dynamodb:BatchWriteItem"}, "table api-keys")
    | _grants({"dynamodb:Query", "dynamodb:BatchWriteItem"}, "table connections")
    # Every upload: its objects (posted, clean, evidence), then its record.
    | _grants("dynamodb:Query", "index uploads/owner_index")
    | _grants("dynamodb:DeleteItem", "table uploads")
    | _grants(
        "s3:DeleteObject",
        "objects uploads/incoming/*",
        "objects uploads/clean/*",
        "objects uploads/quarantine/incoming/*",
    )
    | _grants(CONSUME, "queue erasures"),
    "on_webhook_delivery": LOGS
    | _grants({"dynamodb:GetItem", "dynamodb:UpdateItem"}, "table webhooks")
    # Each try's backoff: the message hidden until its next try.
    | _grants({"sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"}, "queue webhooks")
    | _grants(CONSUME, "queue webhooks"),
    "on_generation_change": LOGS
    # The generations stream: read by the mapping with the function's role; ListStreams has no
    # resource in IAM. A batch that keeps failing is described to the failures queue.
    | _grants(
        {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"},
        "stream generations",
    )
    | _grants("dynamodb:ListStreams", "*")
    | _grants("sqs:SendMessage", "queue on-generation-change-failures")
    # Queue places: a new job's ticket, a finish's transaction, a queued body's ticket read.
    | _grants({"dynamodb:GetItem", "dynamodb:UpdateItem"}, "table generations")
    | _grants({"dynamodb:UpdateItem", "dynamodb:BatchGetItem"}, "table queue-counters")
    # A final state for the owner's hook: its delivery record and message.
    | _grants({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}, "table webhooks")
    | _grants({"sqs:SendMessage", "sqs:GetQueueUrl"}, "queue webhooks")
    # The owner's open connections, pushed to; a gone one is forgotten.
    | _grants({"dynamodb:Query", "dynamodb:DeleteItem"}, "table connections")
    | _grants("execute-api:ManageConnections", "connections websocket"),
    # The statements stream, read as the generations stream is; each decision pushed to its
    # subject's open connections.
    "on_decision_change": LOGS
    | _grants(
        {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"},
        "stream statements",
    )
    | _grants("dynamodb:ListStreams", "*")
    | _grants("sqs:SendMessage", "queue on-decision-change-failures")
    | _grants({"dynamodb:Query", "dynamodb:DeleteItem"}, "table connections")
    | _grants("execute-api:ManageConnections", "connections websocket"),
    # The WebSocket API's routes: a connect reads the caller's profile with the erasure marker
    # and records the connection; a disconnect forgets it; a message may answer a ping.
    "websocket_connect": LOGS
    | _grants("dynamodb:BatchGetItem", "table users")
    | _grants("dynamodb:PutItem", "table connections"),
    "websocket_message": LOGS
    | _grants({"dynamodb:GetItem", "dynamodb:DeleteItem"}, "table connections")
    | _grants("execute-api:ManageConnections", "connections websocket"),
    "websocket_disconnect": LOGS
    | _grants({"dynamodb:GetItem", "dynamodb:DeleteItem"}, "table connections"),
    "dataset_export": LOGS
    | _grants("dynamodb:Query", "table gallery")
    | _grants("dynamodb:BatchGetItem", "table generations")
    | _grants("s3:GetObject", "objects public/images/*")
    | _grants({"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, "objects exports/datasets/*"),
}


# The web client's deployment (the CDK's bucket deployment function, with a role written out in
# infra/site.py): its own logs, its staged sources, and site/ of the public bucket only (never the
# gallery's images/); invalidations of this distribution only.
DEPLOYMENT_EXPECTED = LOGS | {
    ("s3:GetObject", "staged assets/*"),
    ("s3:ListBucket", 'bucket public if {"StringLike": {"s3:prefix": ["site/*"]}}'),
    ("s3:PutObject", "objects public/site/*"),
    ("s3:DeleteObject", "objects public/site/*"),
    ("cloudfront:CreateInvalidation", "distribution cdn"),
    ("cloudfront:GetInvalidation", "distribution cdn"),
}


class Names:
    """Reads a policy resource (Ref, GetAtt, Join, ARN) as `kind name`."""

    def __init__(self, synth: Synth, log_group: str, log_group_id: str = "") -> None:
        self.synth, self.log_group, self.log_group_id = synth, log_group, log_group_id

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
        if kind == "AWS::KMS::Key":
            (alias,) = [
                a["Properties"]["AliasName"]
                for a in self.synth.of_type("AWS::KMS::Alias").values()
                if a["Properties"]["TargetKeyId"] == {"Fn::GetAtt": [logical_id, "Arn"]}
            ]
            return f"key {self._short(alias.removeprefix('alias/'))}"
        if kind == "AWS::Logs::LogGroup":
            own = props.get("LogGroupName") == self.log_group or logical_id == self.log_group_id
            return "own logs" if own else "other logs"
        if kind == "AWS::CloudFront::Distribution":
            return "distribution cdn"
        raise AssertionError(f"unexpected resource in a policy: {kind}")

    def read(self, resource: Any) -> str:
        if resource == "*":
            return "*"
        if isinstance(resource, str):
            staged = f"arn:aws:s3:::cdk-hnb659fds-assets-{CONTEXT['account']}-{CONTEXT['region']}/"
            if resource.startswith(staged):
                return f"staged assets/{resource.removeprefix(staged)}"
            assert resource.startswith("arn:aws:sagemaker:"), resource
            return f"endpoint {self._short(resource.rsplit('/', 1)[1])}"
        if "Ref" in resource:
            return self._of(resource["Ref"])
        if "Fn::GetAtt" in resource:
            named = self._of(resource["Fn::GetAtt"][0])
            if resource["Fn::GetAtt"][1] == "StreamArn":  # a table's stream
                return named.replace("table ", "stream ", 1)
            # A bucket's own ARN (listing), not its objects.
            return named.replace("objects ", "bucket ", 1)
        if "Fn::Sub" in resource:  # the WebSocket API's connections
            template = resource["Fn::Sub"]
            assert template.endswith("${WebsocketAPI}/api/POST/@connections/*"), resource
            return "connections websocket"
        parts = resource["Fn::Join"][1]
        refs = [p for p in parts if isinstance(p, dict)]
        assert len(refs) == 1, resource
        base = self.read(refs[0])
        tail = "".join(p for p in parts if isinstance(p, str))
        if base.startswith("table "):
            return f"index {base.removeprefix('table ')}/{tail.removeprefix('/index/')}"
        if base.startswith("bucket "):
            return f"objects {base.removeprefix('bucket ')}{tail}"
        if base == "distribution cdn":
            assert tail.endswith(":distribution/"), resource
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


def _deployment_function(synth: Synth) -> dict[str, Any]:
    ((_, deployment),) = synth.of_type("Custom::CDKBucketDeployment").items()
    function_id = deployment["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    return dict(synth.resources[function_id]["Properties"])


def test_the_site_deployment_may_write_only_the_site(synth: Synth) -> None:
    props = _deployment_function(synth)
    names = Names(synth, "", log_group_id=props["LoggingConfig"]["LogGroup"]["Ref"])
    found = set()
    for statement in synth.role_statements(props["Role"]):
        assert statement["Effect"] == "Allow" and "NotAction" not in statement
        condition = statement.get("Condition")
        suffix = f" if {json.dumps(condition)}" if condition else ""
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                found.add((action, names.read(resource) + suffix))
    assert found - DEPLOYMENT_EXPECTED == set(), "more than the deployment needs"
    assert DEPLOYMENT_EXPECTED - found == set(), "less than the deployment needs"


def test_the_site_deployment_role_is_its_own_and_has_no_managed_policies(synth: Synth) -> None:
    role_id = _deployment_function(synth)["Role"]["Fn::GetAtt"][0]
    role = synth.resources[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    assert [p["Principal"] for p in role["AssumeRolePolicyDocument"]["Statement"]] == [
        {"Service": "lambda.amazonaws.com"}
    ]
    # Nothing added to it from outside (grants the construct would make are refused).
    assert not [
        p
        for p in synth.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"].get("Roles", [])
    ]
