"""Per-client rate limits: one AWS WAF web ACL (REGIONAL) on the REST API's stage and on the
user pool, so no one client address can use up the API's shared capacity or sign up in bulk.

REGIONAL, on the stage, rather than CLOUDFRONT on the distribution: a CLOUDFRONT web ACL must be
created in us-east-1 (a second stack wherever this one is not), and the stage's own URL stays
reachable without the distribution (the contract names it as the API's address), so only an ACL
on the stage sees every request, whichever way it came.

Behind the distribution the stage sees CloudFront's addresses, not the visitor's: one count per
address there would make every visitor of one edge server share one limit. So the API's
behaviours run a CloudFront Function that writes the visitor's address into VIEWER_IP_HEADER
(replacing whatever the visitor sent), and the API origin adds ORIGIN_HEADER with a generated
secret. The rules (limits and window from infra/config.py):
- `PerVisitorThroughSite`: requests that carry the secret, counted per VIEWER_IP_HEADER;
- `PerAddressDirect`: every other request (the stage's URL called directly, the user pool's
  hosted pages and API), counted per source address, which for this edge-optimized API and for
  Cognito is the caller's own. A caller that forges VIEWER_IP_HEADER without the secret is
  counted here, by its real address;
- `SignUpPerAddress`: sign-up and the calls that send e-mail (the hosted pages' /signup, the
  SignUp, ResendConfirmationCode and ForgotPassword API calls), a much lower limit per source
  address.
Over a limit a client is answered `429` with the contract's `rate_limited` body and Retry-After,
until its rate falls below the limit again. The ACL keeps metrics but no sampled requests:
samples would hold bearer tokens and addresses.

This limits request rates per address; it does not tell people apart behind one address, and
it is no bot detection (README, "What protects sign-up").
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.config import DeployConfig
from infra.nag import acknowledge

VIEWER_IP_HEADER = "objektify-viewer-ip"
ORIGIN_HEADER = "objektify-origin-secret"
RETRY_AFTER_SECONDS = 60
# Cognito's own API names the operation in X-Amz-Target; these create accounts or send e-mail.
SIGN_UP_TARGETS = (
    r"^AWSCognitoIdentityProviderService\.(SignUp|ResendConfirmationCode|ForgotPassword)$"
)
SIGN_UP_PAGE = "/signup"
BLOCKED_BODY_KEY = "rate_limited"
BLOCKED_BODY = {
    "code": "rate_limited",
    "message": "Too many requests from your network address; try again in a few minutes.",
    "details": {},
}
# CloudFront Functions' JavaScript 2.0 runtime: headers are keyed by lower-case name.
VIEWER_ADDRESS_CODE = f"""function handler(event) {{
  var request = event.request;
  request.headers['{VIEWER_IP_HEADER}'] = {{ value: event.viewer.ip }};
  return request;
}}
"""


class Firewall(Construct):
    """The web ACL on the stage and the user pool, and what the distribution adds so the ACL can
    believe the visitor's address."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        rest_api_id: str,
        stage_name: str,
        user_pool_arn: str,
        config: DeployConfig,
    ) -> None:
        super().__init__(scope, id)
        self.origin_secret = secretsmanager.Secret(
            self,
            "OriginSecret",
            description="Objektify: the header value that marks requests sent by the site's CDN",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True, include_space=False
            ),
        )
        acknowledge(
            self.origin_secret,
            "SMG4",
            "Not a credential: it only tells the web ACL which requests came through the "
            "distribution, so their visitor address header is believed. A leak lets a caller "
            "choose its own rate-limit key, nothing more. The distribution and the ACL read it "
            "when they are deployed; to replace it, deploy a new secret (a new construct id).",
        )
        self.viewer_address = cloudfront.Function(
            self,
            "ViewerAddress",
            comment="Objektify API: the visitor's address in a header the web ACL counts by",
            code=cloudfront.FunctionCode.from_inline(VIEWER_ADDRESS_CODE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        self.acl = wafv2.CfnWebACL(
            self,
            "Acl",
            scope="REGIONAL",
            description="Objektify API: requests per client address",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            custom_response_bodies={
                BLOCKED_BODY_KEY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON",
                    content=json.dumps(BLOCKED_BODY, separators=(",", ":")),
                )
            },
            rules=[
                self._rate_rule(
                    "PerVisitorThroughSite",
                    0,
                    config,
                    aggregate_key_type="FORWARDED_IP",
                    forwarded_ip_config=wafv2.CfnWebACL.ForwardedIPConfigurationProperty(
                        header_name=VIEWER_IP_HEADER,
                        # A value that is no address: counted as one (shared) client.
                        fallback_behavior="MATCH",
                    ),
                    scope_down=self._through_site(),
                ),
                self._rate_rule(
                    "PerAddressDirect",
                    1,
                    config,
                    aggregate_key_type="IP",
                    scope_down=wafv2.CfnWebACL.StatementProperty(
                        not_statement=wafv2.CfnWebACL.NotStatementProperty(
                            statement=self._through_site()
                        )
                    ),
                ),
                self._rate_rule(
                    "SignUpPerAddress",
                    2,
                    config,
                    aggregate_key_type="IP",
                    scope_down=self._signing_up(),
                    limit=config.waf_sign_up_limit,
                ),
            ],
            visibility_config=_visibility("ObjektifyApi"),
        )
        stage_arn = cdk.Fn.join(
            "",
            [
                f"arn:{cdk.Aws.PARTITION}:apigateway:{cdk.Aws.REGION}::/restapis/",
                rest_api_id,
                "/stages/",
                stage_name,
            ],
        )
        association = wafv2.CfnWebACLAssociation(
            self, "StageAssociation", resource_arn=stage_arn, web_acl_arn=self.acl.attr_arn
        )
        wafv2.CfnWebACLAssociation(
            self, "UserPoolAssociation", resource_arn=user_pool_arn, web_acl_arn=self.acl.attr_arn
        )
        cdk.Validations.of(association).acknowledge(
            cdk.Acknowledgment(
                id="CloudFormation-Validate::F1020",
                reason="`RestAPI.Stage` is SAM's reference to the stage it generates from the "
                "Chalice API; the synth-time check reads the template before SAM's transform "
                "(cfn-lint in tests/infra checks it after).",
            )
        )

    @property
    def origin_headers(self) -> dict[str, str]:
        """The custom headers the distribution sends with every request to the API origin."""
        return {ORIGIN_HEADER: self.origin_secret.secret_value.unsafe_unwrap()}

    def _through_site(self) -> wafv2.CfnWebACL.StatementProperty:
        return wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                    single_header={"Name": ORIGIN_HEADER}
                ),
                positional_constraint="EXACTLY",
                search_string=self.origin_secret.secret_value.unsafe_unwrap(),
                text_transformations=[
                    wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
                ],
            )
        )

    @staticmethod
    def _signing_up() -> wafv2.CfnWebACL.StatementProperty:
        target = wafv2.CfnWebACL.StatementProperty(
            regex_match_statement=wafv2.CfnWebACL.RegexMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                    single_header={"Name": "x-amz-target"}
                ),
                regex_string=SIGN_UP_TARGETS,
                text_transformations=[
                    wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
                ],
            )
        )
        page = wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                positional_constraint="STARTS_WITH",
                search_string=SIGN_UP_PAGE,
                text_transformations=[
                    wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="LOWERCASE")
                ],
            )
        )
        return wafv2.CfnWebACL.StatementProperty(
            or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=[target, page])
        )

    @staticmethod
    def _rate_rule(
        name: str,
        priority: int,
        config: DeployConfig,
        *,
        aggregate_key_type: str,
        scope_down: wafv2.CfnWebACL.StatementProperty,
        forwarded_ip_config: wafv2.CfnWebACL.ForwardedIPConfigurationProperty | None = None,
        limit: int | None = None,
    ) -> wafv2.CfnWebACL.RuleProperty:
        return wafv2.CfnWebACL.RuleProperty(
            name=name,
            priority=priority,
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=limit or config.waf_rate_limit,
                    evaluation_window_sec=config.waf_rate_window,
                    aggregate_key_type=aggregate_key_type,
                    forwarded_ip_config=forwarded_ip_config,
                    scope_down_statement=scope_down,
                )
            ),
            action=wafv2.CfnWebACL.RuleActionProperty(
                block=wafv2.CfnWebACL.BlockActionProperty(
                    custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                        response_code=429,
                        custom_response_body_key=BLOCKED_BODY_KEY,
                        response_headers=[
                            wafv2.CfnWebACL.CustomHTTPHeaderProperty(
                                name="Retry-After", value=str(RETRY_AFTER_SECONDS)
                            ),
                            wafv2.CfnWebACL.CustomHTTPHeaderProperty(
                                name="Cache-Control", value="no-store"
                            ),
                        ],
                    )
                )
            ),
            visibility_config=_visibility(f"ObjektifyApi{name}"),
        )


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=False
    )
