"""The reference web client in AWS: `web/` in the public bucket, behind the distribution that
already serves the gallery's images, with the API under the same origin.

What a browser reaches at `https://<distribution>/`:
- `/` and every other path of `web/` (`/app/...`): the default behaviour, from the public bucket
  under `site/` (origin path `/site`), `index.html` at the root;
- `/images/*`: the gallery's derivatives, from the same bucket without an origin path
  (infra/storage.py);
- `/health`, `/gallery*`, `/me*`, …: one behaviour per top-level segment of the app's routes, to
  the REST API's stage, uncached, with every viewer header but Host passed on, the visitor's
  address in a header and the origin secret the stage's web ACL believes it by
  (infra/firewall.py).
So the client calls the API on its own origin (no CORS), its images are 'self', and the
hash routes of the client (`#/...`) never reach the server.

The deployment syncs `web/` and a generated `app/config.json` to `site/` only and prunes there:
the gallery's objects under `images/` are never listed, written or deleted by it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from chalicelib.web_front import STATIC_PREFIX, WEB_ROOT
from infra.nag import acknowledge, arn_token
from infra.storage import PUBLIC_PREFIX, SITE_PREFIX

CONFIG_KEY = STATIC_PREFIX.lstrip("/") + "config.json"  # app/config.json, what the client reads
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS


def site_names(root: Path = WEB_ROOT) -> list[str]:
    """The top-level files and folders of the site (hidden ones are not deployed)."""
    return sorted(p.name for p in root.iterdir() if not p.name.startswith("."))


def api_path_patterns(routes: Iterable[str], root: Path = WEB_ROOT) -> list[str]:
    """One CloudFront path pattern per top-level segment of the app's routes (`/gallery*` covers
    `/gallery`, `/gallery/{image_id}` and below), in a stable order.

    A pattern that would also match a path of the site or of the images refuses the synth: the
    site's default behaviour and `/images/*` must keep their paths.
    """
    segments = sorted({route.strip("/").split("/")[0] for route in routes} - {""})
    taken = [*site_names(root), PUBLIC_PREFIX.rstrip("/")]
    clashes = sorted(s for s in segments if any(name.startswith(s) for name in taken))
    if clashes:
        raise ValueError(f"API routes {clashes} would take paths of the site or images {taken}")
    return [f"/{segment}*" for segment in segments]


def invalidation_paths(root: Path = WEB_ROOT) -> list[str]:
    """What a deployment makes the edge forget: the root (cached on its own key) and each
    top-level file and folder of the site, as viewers see them; never `/images/*` or the API."""
    paths = ["/"]
    for name in site_names(root):
        paths.append(f"/{name}/*" if (root / name).is_dir() else f"/{name}")
    return paths


def web_config(
    *, hosted_ui_url: str, client_id: str, scopes: list[str], site_url: str
) -> dict[str, Any]:
    """`app/config.json` as web/app/auth.js reads it in AWS. The API is on the site's own origin
    (`apiBaseUrl` empty); there is no development sign-in here (`devSignIn` is local only)."""
    return {
        "mode": "cognito",
        "apiBaseUrl": "",
        "cognito": {
            "domain": hosted_ui_url,
            "clientId": client_id,
            "scopes": scopes,
            "redirectUri": site_url,
            "logoutUri": site_url,
        },
    }


class Site(Construct):
    """The API's behaviours on the distribution, and the client's files in the public bucket."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        distribution: cloudfront.Distribution,
        bucket: s3.IBucket,
        rest_api_id: str,
        api_stage: str,
        routes: Iterable[str],
        headers: cloudfront.IResponseHeadersPolicy,
        config: dict[str, Any],
        origin_headers: dict[str, str],
        viewer_request: cloudfront.IFunction,
    ) -> None:
        super().__init__(scope, id)
        self._api_behaviours(
            distribution,
            rest_api_id,
            api_stage,
            routes,
            headers,
            origin_headers,
            viewer_request,
        )
        self.deployment = self._deploy(distribution, bucket, config)
        self._handler()

    def _api_behaviours(
        self,
        distribution: cloudfront.Distribution,
        rest_api_id: str,
        api_stage: str,
        routes: Iterable[str],
        headers: cloudfront.IResponseHeadersPolicy,
        origin_headers: dict[str, str],
        viewer_request: cloudfront.IFunction,
    ) -> None:
        stack = cdk.Stack.of(self)
        api = origins.HttpOrigin(
            f"{rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}",
            origin_path=f"/{api_stage}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            # The web ACL on the stage believes the visitor's address only with this
            # (infra/firewall.py).
            custom_headers=origin_headers,
        )
        for pattern in api_path_patterns(routes):
            distribution.add_behavior(
                pattern,
                api,
                # A POST must not be redirected: plain HTTP is refused instead.
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                # The app answers with its own Cache-Control and ETag for browsers; the edge
                # keeps nothing, so no answer meant for one caller reaches another.
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                # AWS's policy for API Gateway origins: every viewer header (Authorization,
                # Idempotency-Key, If-None-Match, …), cookie and query string, but not Host,
                # which must name the API's own domain.
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                response_headers_policy=headers,
                # The visitor's address in a header the web ACL counts requests by.
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=viewer_request,
                        event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                    )
                ],
            )

    def _deploy(
        self, distribution: cloudfront.Distribution, bucket: s3.IBucket, config: dict[str, Any]
    ) -> s3deploy.BucketDeployment:
        files = s3_assets.Asset(self, "Files", path=str(WEB_ROOT), exclude=[".*", "**/.*"])
        log_group = logs.LogGroup(
            self,
            "DeploymentLogs",
            retention=LOG_RETENTION,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        role = self._deployment_role(distribution, bucket, files, log_group)
        return s3deploy.BucketDeployment(
            self,
            "Deployment",
            sources=[
                s3deploy.Source.bucket(files.bucket, files.s3_object_key),
                # Tokens (the distribution's domain, the client id) are filled in at deploy time.
                s3deploy.Source.json_data(CONFIG_KEY, config),
            ],
            destination_bucket=bucket,
            destination_key_prefix=SITE_PREFIX,
            prune=True,  # within site/ only: a file removed from web/ leaves the site
            retain_on_delete=True,  # the bucket is kept with the gallery in it; so is the site
            distribution=distribution,
            distribution_paths=invalidation_paths(),
            role=role.without_policy_updates(),
            log_group=log_group,
            memory_limit=256,
        )

    def _deployment_role(
        self,
        distribution: cloudfront.Distribution,
        bucket: s3.IBucket,
        files: s3_assets.Asset,
        log_group: logs.LogGroup,
    ) -> iam.Role:
        """The deployment function's role, written out: the construct would grant read, write and
        delete on the whole public bucket (the gallery included) and invalidation anywhere. It is
        handed over immutable, so nothing is added to it beyond this."""
        stack = cdk.Stack.of(self)
        site_objects = bucket.arn_for_objects(f"{SITE_PREFIX}*")
        role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Objektify web client deployment: writes site/ of the public bucket",
            inline_policies={
                "deploy": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            sid="Logs",
                            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                            resources=[log_group.log_group_arn],
                        ),
                        # The sources: the CDK's staged assets (the files and the config).
                        iam.PolicyStatement(
                            sid="ReadSources",
                            actions=["s3:GetObject"],
                            resources=[files.bucket.arn_for_objects("*")],
                        ),
                        # `aws s3 sync --delete` lists what is under the prefix, then writes and
                        # prunes there.
                        iam.PolicyStatement(
                            sid="ListSite",
                            actions=["s3:ListBucket"],
                            resources=[bucket.bucket_arn],
                            conditions={"StringLike": {"s3:prefix": [f"{SITE_PREFIX}*"]}},
                        ),
                        iam.PolicyStatement(
                            sid="WriteSite",
                            actions=["s3:PutObject", "s3:DeleteObject"],
                            resources=[site_objects],
                        ),
                        iam.PolicyStatement(
                            sid="Invalidate",
                            actions=["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
                            resources=[
                                stack.format_arn(
                                    service="cloudfront",
                                    region="",
                                    resource="distribution",
                                    resource_name=distribution.distribution_id,
                                )
                            ],
                        ),
                    ]
                )
            },
        )
        acknowledge(
            role,
            "IAM5",
            "Objects under site/ only: the web client's files, synced and pruned there by the "
            "deployment; the gallery's images/ are out of its reach.",
            finding=f"Resource::{arn_token(bucket)}/{SITE_PREFIX}*",
        )
        acknowledge(
            role,
            "IAM5",
            "Read only, on the CDK's asset bucket of this account and region, whose objects are "
            "named by content hash at synth time: the deployment copies its sources from there.",
            finding=f"Resource::{stack.resolve(files.bucket.arn_for_objects('*'))}",
        )
        return role

    def _handler(self) -> None:
        """The deployment's function is the CDK's own singleton, made beside the stack's top."""
        stack = cdk.Stack.of(self)
        (handler,) = [
            child
            for child in stack.node.children
            if child.node.id.startswith("Custom::CDKBucketDeployment")
        ]
        function = handler.node.default_child
        assert isinstance(function, cdk.CfnResource)
        # The function names its role (GetAtt), which carries all its permissions inline: the
        # DependsOn the construct adds as well is one cfn-lint reports as redundant (W3005).
        function.add_deletion_override("DependsOn")
        acknowledge(
            handler,
            "L1",
            "The AWS CDK's own bucket deployment handler: aws-cdk-lib picks and tests its Python "
            "runtime (with the AWS CLI layer it needs), and moves it forward with its releases.",
        )
