"""S3 and the CDN: every bucket private, encrypted and TLS-only; the public images reachable only
through CloudFront's origin access control; retention as the data requires."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template

from chalicelib import resources
from chalicelib.resources import public_keys
from tests.infra.support import Synth, arn_of, as_list, ref, stage_settings

BLOCK_ALL = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


def _bucket(synth: Synth, setting: str) -> tuple[str, dict[str, Any]]:
    return synth.named("AWS::S3::Bucket", "BucketName", getattr(stage_settings(), setting))


def _policy_of(synth: Synth, bucket_id: str) -> list[dict[str, Any]]:
    (policy,) = [
        p
        for p in synth.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == ref(bucket_id)
    ]
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def test_every_bucket_of_the_app_exists_and_is_kept(synth: Synth) -> None:
    names = {b["Properties"].get("BucketName") for b in synth.of_type("AWS::S3::Bucket").values()}
    assert set(resources.buckets(stage_settings())) <= names
    for setting in ("inputs_bucket", "originals_bucket", "public_bucket", "exports_bucket"):
        _, bucket = _bucket(synth, setting)
        assert bucket["DeletionPolicy"] == "Retain"


def test_every_bucket_blocks_public_access_encrypts_and_logs(template: Template) -> None:
    template.all_resources_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": BLOCK_ALL,
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        },
    )


def test_every_bucket_refuses_plain_http(synth: Synth) -> None:
    for bucket_id in synth.of_type("AWS::S3::Bucket"):
        statements = _policy_of(synth, bucket_id)
        assert any(
            s["Effect"] == "Deny"
            and s["Principal"] == {"AWS": "*"}
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), bucket_id


def test_no_bucket_lets_anyone_in_but_cloudfront_and_log_delivery(synth: Synth) -> None:
    (cdn_id,) = synth.of_type("AWS::CloudFront::Distribution")
    public_id, _ = _bucket(synth, "public_bucket")
    for bucket_id in synth.of_type("AWS::S3::Bucket"):
        for statement in _policy_of(synth, bucket_id):
            if statement["Effect"] != "Allow":
                continue
            principal = statement["Principal"]
            assert "AWS" not in principal and principal != "*", (bucket_id, statement)
            if principal == {"Service": "cloudfront.amazonaws.com"}:
                assert bucket_id == public_id
                assert as_list(statement["Action"]) == ["s3:GetObject"]
                source = statement["Condition"]["StringEquals"]["AWS:SourceArn"]
                assert cdn_id in str(source)
            else:
                assert principal == {"Service": "logging.s3.amazonaws.com"}, statement


def test_public_images_are_served_by_cloudfront_over_https_with_origin_access_control(
    synth: Synth, template: Template
) -> None:
    public_id, _ = _bucket(synth, "public_bucket")
    template.has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {"OriginAccessControlConfig": Match.object_like({"SigningBehavior": "always"})},
    )
    ((_, cdn),) = synth.of_type("AWS::CloudFront::Distribution").items()
    config = cdn["Properties"]["DistributionConfig"]
    bucket_origins = [o for o in config["Origins"] if "S3OriginConfig" in o]
    # The site (under site/) and the images (under images/), both read with the one OAC.
    assert len(bucket_origins) == 2
    (access_id,) = synth.of_type("AWS::CloudFront::OriginAccessControl")
    for origin in bucket_origins:
        assert origin["DomainName"] == {"Fn::GetAtt": [public_id, "RegionalDomainName"]}
        assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [access_id, "Id"]}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    (images,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/images/*"]
    assert images["ViewerProtocolPolicy"] == "redirect-to-https"


def test_the_cdn_forgets_a_removed_image_within_minutes(synth: Synth) -> None:
    ((_, cdn),) = synth.of_type("AWS::CloudFront::Distribution").items()
    (images,) = [
        b
        for b in cdn["Properties"]["DistributionConfig"]["CacheBehaviors"]
        if b["PathPattern"] == "/images/*"
    ]
    policy = synth.resources[images["CachePolicyId"]["Ref"]]["Properties"]["CachePolicyConfig"]
    assert policy["MaxTTL"] == 300 and policy["DefaultTTL"] == 300


def test_the_gallery_writes_where_the_cdn_and_the_grants_expect() -> None:
    from infra.storage import PUBLIC_PREFIX

    assert all(key.startswith(PUBLIC_PREFIX) for key in public_keys("X").values())


def test_request_payloads_and_exports_expire_and_originals_keep_versions_for_a_while(
    synth: Synth,
) -> None:
    def rules(setting: str) -> list[dict[str, Any]]:
        return list(_bucket(synth, setting)[1]["Properties"]["LifecycleConfiguration"]["Rules"])

    assert {"ExpirationInDays": 7, "Status": "Enabled"} in rules("inputs_bucket")
    # Data exports expire; training datasets beside them do not.
    assert {"ExpirationInDays": 7, "Prefix": "exports/", "Status": "Enabled"} in rules(
        "exports_bucket"
    )
    _, originals = _bucket(synth, "originals_bucket")
    assert originals["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert any(
        r.get("NoncurrentVersionExpiration") == {"NoncurrentDays": 30}
        for r in rules("originals_bucket")
    )
    for setting in ("inputs_bucket", "public_bucket", "exports_bucket"):
        assert "VersioningConfiguration" not in _bucket(synth, setting)[1]["Properties"]


def test_new_model_outputs_are_announced_to_the_scan_queue(synth: Synth) -> None:
    settings = stage_settings()
    for note in resources.notifications(settings):
        _, bucket = synth.named("AWS::S3::Bucket", "BucketName", note.bucket)
        queue_id, _ = synth.named("AWS::SQS::Queue", "QueueName", note.queue)
        assert bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"] == [
            {
                "Event": "s3:ObjectCreated:*",
                "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": note.prefix}]}},
                "Queue": arn_of(queue_id),
            }
        ]
        # S3 tests the destination when the configuration is set: the queue must allow it first.
        (policy_id,) = [
            k
            for k, p in synth.of_type("AWS::SQS::QueuePolicy").items()
            if ref(queue_id) in p["Properties"]["Queues"]
        ]
        assert policy_id in bucket["DependsOn"]
        statements = synth.resources[policy_id]["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s.get("Principal") == {"Service": "s3.amazonaws.com"}
            and s["Condition"]["ArnLike"]["aws:SourceArn"].endswith(f":::{note.bucket}")
            for s in statements
        )


def test_uploads_expire_unless_used_and_only_the_site_may_post_to_them(synth: Synth) -> None:
    _, bucket = _bucket(synth, "uploads_bucket")
    properties = bucket["Properties"]
    rules = properties["LifecycleConfiguration"]["Rules"]
    # What was posted is scanned within minutes; a clean copy no generation used goes by tag.
    assert {"ExpirationInDays": 1, "Prefix": resources.UPLOAD_PREFIX, "Status": "Enabled"} in rules
    assert {
        "ExpirationInDays": 30,
        "Prefix": resources.QUARANTINE_PREFIX,
        "Status": "Enabled",
    } in rules
    key, value = resources.UPLOAD_EXPIRY_TAG
    assert {
        "ExpirationInDays": stage_settings().upload_retention_days,
        "TagFilters": [{"Key": key, "Value": value}],
        "Status": "Enabled",
    } in rules
    # Erasure deletes for good: no versions to keep a deleted upload.
    assert "VersioningConfiguration" not in properties
    assert bucket["DeletionPolicy"] == "Retain"
    ((cdn_id, _),) = synth.of_type("AWS::CloudFront::Distribution").items()
    (cors,) = properties["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["POST"]
    (origin,) = cors["AllowedOrigins"]
    assert cdn_id in json.dumps(origin) and "*" not in json.dumps(origin)
