"""The synth itself: offline, one stack, and clean under cfn-lint and cdk-nag (AwsSolutions)."""

from __future__ import annotations

import json
import re

from cfnlint.api import ManualArgs, lint

from infra.api import CONNECTIONS_FINDING
from tests.infra.support import CONTEXT, REGION, Synth

# Every AwsSolutions finding the stack accepts, and where; each has its reason in the code next
# to the resource (infra/*.py, `acknowledge(...)`). Adding to this list is a reviewed decision.
# (Logical ids are written without CDK's hash suffix.)
ACKNOWLEDGED = {
    ("CFR1", "Storage/PublicCdn"),  # no geo restriction: a public gallery
    ("CFR2", "Storage/PublicCdn"),  # no WAF on the CDN: the API's web ACL is on its stage
    ("CFR3", "Storage/PublicCdn"),  # no viewer logs: visitors' addresses
    ("CFR4", "Storage/PublicCdn"),  # default certificate until there is a domain
    ("COG8", "Identity/Users"),  # Essentials plan
    ("SMG4", "ServiceConfig/SigningKeys"),  # rotated by the app's key list, not replaced
    ("SMG4", "ServiceConfig/AddressHashKey"),
    ("SMG4", "Firewall/OriginSecret"),  # marks the CDN's requests to the API; not a credential
    (
        "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AmazonAPIGatewayPushToCloudWatchLogs]",
        "ApiGatewayLoggingRole",
    ),
    # Object prefixes: keys are made at run time.
    ("IAM5[Resource::<StorageInputsBucket.Arn>/inputs/*]", "Inference/ExecutionRole"),
    ("IAM5[Resource::<StorageOriginalsBucket.Arn>/outputs/*]", "Inference/ExecutionRole"),
    ("IAM5[Resource::<StorageOriginalsBucket.Arn>/failures/*]", "Inference/ExecutionRole"),
    ("IAM5[Resource::<StorageInputsBucket.Arn>/inputs/*]", "APIHandlerRole"),
    ("IAM5[Resource::<StoragePublicBucket.Arn>/images/*]", "APIHandlerRole"),
    ("IAM5[Resource::<StorageOriginalsBucket.Arn>/outputs/*]", "OnOutputCreatedRole"),
    ("IAM5[Resource::<StorageOriginalsBucket.Arn>/quarantine/*]", "OnOutputCreatedRole"),
    ("IAM5[Resource::<StoragePublicBucket.Arn>/images/*]", "OnOutputCreatedRole"),
    ("IAM5[Resource::<StorageOriginalsBucket.Arn>/outputs/*]", "APIHandlerRole"),
    ("IAM5[Resource::<StorageExportsBucket.Arn>/exports/*]", "APIHandlerRole"),
    ("IAM5[Resource::<StorageOriginalsBucket.Arn>/outputs/*]", "OnExportRequestedRole"),
    ("IAM5[Resource::<StorageExportsBucket.Arn>/exports/*]", "OnExportRequestedRole"),
    ("IAM5[Resource::<StorageInputsBucket.Arn>/inputs/*]", "OnErasureRequestedRole"),
    ("IAM5[Resource::<StorageOriginalsBucket.Arn>/outputs/*]", "OnErasureRequestedRole"),
    ("IAM5[Resource::<StorageOriginalsBucket.Arn>/quarantine/*]", "OnErasureRequestedRole"),
    ("IAM5[Resource::<StorageOriginalsBucket.Arn>/failures/*]", "OnErasureRequestedRole"),
    ("IAM5[Resource::<StoragePublicBucket.Arn>/images/*]", "OnErasureRequestedRole"),
    ("IAM5[Resource::<StorageExportsBucket.Arn>/exports/*]", "OnErasureRequestedRole"),
    ("IAM5[Resource::<StoragePublicBucket.Arn>/images/*]", "DatasetExportRole"),
    ("IAM5[Resource::<StorageExportsBucket.Arn>/datasets/*]", "DatasetExportRole"),
    ("IAM5[Resource::<StorageUploadsBucket.Arn>/incoming/*]", "OnUploadCreatedRole"),
    ("IAM5[Resource::<StorageUploadsBucket.Arn>/clean/*]", "OnUploadCreatedRole"),
    ("IAM5[Resource::<StorageUploadsBucket.Arn>/quarantine/incoming/*]", "OnUploadCreatedRole"),
    # Uploads: the presigned POST (incoming/), a generation's clean copy, moderators' links;
    # the export's clean copies; erasure's every object of them.
    ("IAM5[Resource::<StorageUploadsBucket.Arn>/incoming/*]", "APIHandlerRole"),
    ("IAM5[Resource::<StorageUploadsBucket.Arn>/clean/*]", "APIHandlerRole"),
    ("IAM5[Resource::<StorageUploadsBucket.Arn>/quarantine/incoming/*]", "APIHandlerRole"),
    ("IAM5[Resource::<StorageUploadsBucket.Arn>/clean/*]", "OnExportRequestedRole"),
    ("IAM5[Resource::<StorageUploadsBucket.Arn>/incoming/*]", "OnErasureRequestedRole"),
    ("IAM5[Resource::<StorageUploadsBucket.Arn>/clean/*]", "OnErasureRequestedRole"),
    ("IAM5[Resource::<StorageUploadsBucket.Arn>/quarantine/incoming/*]", "OnErasureRequestedRole"),
    # Actions IAM cannot scope: ECR sign-in, PutMetricData (namespace condition), Rekognition.
    ("IAM5[Resource::*]", "Inference/ExecutionRole"),
    ("IAM5[Resource::*]", "OnOutputCreatedRole"),
    ("IAM5[Resource::*]", "OnUploadCreatedRole"),  # Rekognition
    # dynamodb:ListStreams, which the generations' and statements' streams' event source
    # mappings call.
    ("IAM5[Resource::*]", "OnGenerationChangeRole"),
    ("IAM5[Resource::*]", "OnDecisionChangeRole"),
    # The endpoint's own log streams; CDK's grant on the topic key.
    (
        "IAM5[Resource::arn:aws:logs:eu-west-1:210987654321:log-group:"
        "/aws/sagemaker/Endpoints/objektify-ci-generator:*]",
        "Inference/ExecutionRole",
    ),
    ("IAM5[Action::kms:GenerateDataKey*]", "Inference/ExecutionRole"),
    # The web client's deployment: site/ of the public bucket, and the CDK's staged sources.
    ("IAM5[Resource::<StoragePublicBucket.Arn>/site/*]", "Site/DeploymentRole"),
    (
        "IAM5[Resource::arn:aws:s3:::cdk-hnb659fds-assets-210987654321-eu-west-1/*]",
        "Site/DeploymentRole",
    ),
    # The WebSocket API: the $connect handler verifies the token itself; the stage's access
    # logs are an override cdk-nag does not read; a push may reach any connection of the stage.
    ("APIG1", "Api/ChaliceApp/WebsocketAPIStage"),
    ("APIG4", "Api/ChaliceApp/WebsocketConnectRoute"),
    ("APIG4", "Api/ChaliceApp/WebsocketMessageRoute"),
    ("APIG4", "Api/ChaliceApp/WebsocketDisconnectRoute"),
    (f"IAM5[Resource::{CONNECTIONS_FINDING}]", "OnGenerationChangeRole"),
    (f"IAM5[Resource::{CONNECTIONS_FINDING}]", "OnDecisionChangeRole"),
    (f"IAM5[Resource::{CONNECTIONS_FINDING}]", "WebsocketMessageRole"),
    # The CDK's own deployment handler keeps the runtime aws-cdk-lib gives it.
    ("L1", "Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C256MiB"),
}
HASH_SUFFIX = re.compile(r"(<[A-Za-z0-9]+?)[0-9A-F]{8}(\.Arn>)")


def _nag(synth: Synth) -> dict[str, object]:
    (report,) = [p for p in synth.report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    return dict(report)


def test_synth_needs_no_aws_account_and_writes_one_stack(synth: Synth) -> None:
    manifest = json.loads((synth.outdir / "manifest.json").read_text())
    stacks = [a for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"]
    assert len(stacks) == 1
    assert stacks[0]["environment"] == f"aws://{CONTEXT['account']}/{REGION}"
    print(f"layers {synth.layers_seconds:.1f} s, synth {synth.synth_seconds:.1f} s")


def test_cdk_nag_finds_nothing_unacknowledged(synth: Synth) -> None:
    report = _nag(synth)
    assert report["conclusion"] == "success"
    assert report["violations"] == []


def test_every_acknowledged_finding_is_expected_and_has_a_reason(synth: Synth) -> None:
    stage = CONTEXT["stage"]
    suppressed = _nag(synth)["suppressedViolations"]
    assert isinstance(suppressed, list)
    seen = set()
    for item in suppressed:
        assert len(item["reason"]) > 40, item["acknowledgedId"]
        finding = HASH_SUFFIX.sub(r"\1\2", item["acknowledgedId"].split("::AwsSolutions-", 1)[1])
        seen.add((finding, item["acknowledgedAt"].removeprefix(f"objektify-{stage}/")))
    assert seen == ACKNOWLEDGED


def test_nothing_weakens_storage_data_or_queues(synth: Synth) -> None:
    """No finding about buckets, tables, queues or topics is ever acknowledged."""
    suppressed = _nag(synth)["suppressedViolations"]
    assert isinstance(suppressed, list)
    rules = {item["ruleName"].split("[")[0].removeprefix("AwsSolutions-") for item in suppressed}
    assert not {r for r in rules if r.rstrip("0123456789") in {"S", "DDB", "SQS", "SNS", "KMS"}}


def test_cfn_lint_passes_on_the_synthesized_template(synth: Synth) -> None:
    # cfn-lint checks the SAM resources Chalice produced too (cdk-nag cannot see those).
    template = json.dumps(synth.template)
    matches = lint(template, config=ManualArgs(regions=[REGION]))
    assert [str(m) for m in matches] == []
