"""cdk-nag's AwsSolutions pack over the app, and the one way to acknowledge a finding.

Every acknowledgment is made next to the resource it concerns, with the reason there, through
`acknowledge`; tests/infra lists the acknowledged rules, so a new one is a reviewed change. Any
other finding fails the synth.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

PACK = "AwsSolutions"


def check(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


def acknowledge(scope: IConstruct, rule: str, reason: str, finding: str | None = None) -> None:
    """Accept AwsSolutions-`rule` (one `finding` of it, if given) on `scope`, for `reason`."""
    suffix = f"[{finding}]" if finding else ""
    cdk.Validations.of(scope).acknowledge(
        cdk.Acknowledgment(id=f"{PACK}::{PACK}-{rule}{suffix}", reason=reason)
    )


def arn_token(resource: IConstruct) -> str:
    """How cdk-nag writes `GetAtt <resource>.Arn` in a finding."""
    element = resource.node.default_child
    assert isinstance(element, cdk.CfnElement)
    return f"<{cdk.Stack.of(element).resolve(element.logical_id)}.Arn>"


def acknowledge_object_prefixes(
    role: IConstruct, grants: list[tuple[IConstruct, str]], why: str
) -> None:
    """IAM5 on `bucket/prefix*` resources: the keys are made at run time, under one prefix."""
    for bucket, prefix in grants:
        acknowledge(
            role,
            "IAM5",
            f"Objects under {prefix} only: keys are generated at run time. {why}",
            finding=f"Resource::{arn_token(bucket)}/{prefix}*",
        )
