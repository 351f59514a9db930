"""No one client can use up the shared capacity: a web ACL on the API's stage and the user pool
limits each client address, and sign-ups far more."""

from __future__ import annotations

import json
import re
from typing import Any

from infra.config import DEFAULTS
from infra.firewall import ORIGIN_HEADER, VIEWER_IP_HEADER
from infra.functions import FUNCTIONS
from tests.infra.support import Synth, ref


def _acl(synth: Synth) -> tuple[str, dict[str, Any]]:
    ((acl_id, acl),) = synth.of_type("AWS::WAFv2::WebACL").items()
    return acl_id, acl["Properties"]


def _rules(synth: Synth) -> dict[str, dict[str, Any]]:
    return {rule["Name"]: rule for rule in _acl(synth)[1]["Rules"]}


def _secret_value(synth: Synth) -> dict[str, Any]:
    """The template's dynamic reference to the origin secret's value."""
    secrets = [
        k
        for k, r in synth.of_type("AWS::SecretsManager::Secret").items()
        if "CDN" in r["Properties"].get("Description", "")
    ]
    (secret_id,) = secrets
    return {"Fn::Join": ["", ["{{resolve:secretsmanager:", ref(secret_id), ":SecretString:::}}"]]}


def test_the_api_stage_has_a_regional_web_acl_with_a_rate_limit_per_client_address(
    synth: Synth,
) -> None:
    _, acl = _acl(synth)
    assert acl["Scope"] == "REGIONAL"
    assert acl["DefaultAction"] == {"Allow": {}}
    rules = _rules(synth)
    assert set(rules) == {"PerVisitorThroughSite", "PerAddressDirect", "SignUpPerAddress"}
    keys = {}
    for name, rule in rules.items():
        rate = rule["Statement"]["RateBasedStatement"]
        limit = "waf_sign_up_limit" if name == "SignUpPerAddress" else "waf_rate_limit"
        assert rate["Limit"] == int(DEFAULTS[limit])
        assert rate["EvaluationWindowSec"] == int(DEFAULTS["waf_rate_window"])
        keys[name] = rate["AggregateKeyType"]
        assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True
        # Samples would keep bearer tokens and addresses in the console.
        assert rule["VisibilityConfig"]["SampledRequestsEnabled"] is False
    assert keys == {
        "PerVisitorThroughSite": "FORWARDED_IP",
        "PerAddressDirect": "IP",
        "SignUpPerAddress": "IP",
    }
    forwarded = rules["PerVisitorThroughSite"]["Statement"]["RateBasedStatement"]
    assert forwarded["ForwardedIPConfig"]["HeaderName"] == VIEWER_IP_HEADER


def test_a_client_over_the_limit_gets_the_contracts_429_with_retry_after(synth: Synth) -> None:
    _, acl = _acl(synth)
    for rule in _rules(synth).values():
        response = rule["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        headers = {h["Name"]: h["Value"] for h in response["ResponseHeaders"]}
        assert int(headers["Retry-After"]) > 0
        body = acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]
        assert body["ContentType"] == "APPLICATION_JSON"
        content = json.loads(body["Content"])
        assert content["code"] == "rate_limited" and set(content) == {"code", "message", "details"}


def _associations(synth: Synth) -> list[dict[str, Any]]:
    return [a["Properties"] for a in synth.of_type("AWS::WAFv2::WebACLAssociation").values()]


def test_the_web_acl_is_associated_with_the_api_stage(synth: Synth) -> None:
    acl_id, _ = _acl(synth)
    (props,) = [a for a in _associations(synth) if "Fn::Join" in a["ResourceArn"]]
    assert props["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    parts = props["ResourceArn"]["Fn::Join"][1]
    assert ref("RestAPI") in parts
    # SAM's reference to the stage it makes: the association waits for the stage.
    assert ref("RestAPI.Stage") in parts
    text = "".join(p for p in parts if isinstance(p, str))
    assert ":apigateway:" in text and "::/restapis/" in text and "/stages/" in text


def test_sign_up_and_the_calls_that_send_mail_have_a_low_limit_on_the_user_pool(
    synth: Synth,
) -> None:
    acl_id, _ = _acl(synth)
    ((pool_id, _),) = synth.of_type("AWS::Cognito::UserPool").items()
    assert {
        "ResourceArn": {"Fn::GetAtt": [pool_id, "Arn"]},
        "WebACLArn": {"Fn::GetAtt": [acl_id, "Arn"]},
    } in _associations(synth)
    rule = _rules(synth)["SignUpPerAddress"]["Statement"]["RateBasedStatement"]
    assert rule["Limit"] < int(DEFAULTS["waf_rate_limit"]) / 10
    target, page = rule["ScopeDownStatement"]["OrStatement"]["Statements"]
    pattern = re.compile(target["RegexMatchStatement"]["RegexString"])
    assert target["RegexMatchStatement"]["FieldToMatch"] == {
        "SingleHeader": {"Name": "x-amz-target"}
    }
    for operation in ("SignUp", "ResendConfirmationCode", "ForgotPassword"):
        assert pattern.match(f"AWSCognitoIdentityProviderService.{operation}")
    for operation in ("InitiateAuth", "GetTokensFromRefreshToken", "SignUpX"):
        assert not pattern.match(f"AWSCognitoIdentityProviderService.{operation}")
    assert page["ByteMatchStatement"]["FieldToMatch"] == {"UriPath": {}}
    assert page["ByteMatchStatement"]["SearchString"] == "/signup"


def test_the_visitors_address_is_believed_only_from_the_sites_cdn(synth: Synth) -> None:
    secret = _secret_value(synth)
    rules = _rules(synth)
    through_site = rules["PerVisitorThroughSite"]["Statement"]["RateBasedStatement"]
    match = through_site["ScopeDownStatement"]["ByteMatchStatement"]
    assert match["FieldToMatch"] == {"SingleHeader": {"Name": ORIGIN_HEADER}}
    assert match["PositionalConstraint"] == "EXACTLY"
    assert match["SearchString"] == secret
    direct = rules["PerAddressDirect"]["Statement"]["RateBasedStatement"]
    assert direct["ScopeDownStatement"] == {
        "NotStatement": {"Statement": {"ByteMatchStatement": match}}
    }

    ((_, cdn),) = synth.of_type("AWS::CloudFront::Distribution").items()
    config = cdn["Properties"]["DistributionConfig"]
    api_origins = {o["Id"]: o for o in config["Origins"] if "CustomOriginConfig" in o}
    assert api_origins
    for origin in api_origins.values():
        assert origin["OriginCustomHeaders"] == [
            {"HeaderName": ORIGIN_HEADER, "HeaderValue": secret}
        ]
    ((function_id, function),) = synth.of_type("AWS::CloudFront::Function").items()
    code = function["Properties"]["FunctionCode"]
    assert f"request.headers['{VIEWER_IP_HEADER}']" in code and "event.viewer.ip" in code
    api_behaviours = [b for b in config["CacheBehaviors"] if b["TargetOriginId"] in api_origins]
    assert api_behaviours
    for behaviour in api_behaviours:
        assert behaviour["FunctionAssociations"] == [
            {
                "EventType": "viewer-request",
                "FunctionARN": {"Fn::GetAtt": [function_id, "FunctionARN"]},
            }
        ]
    # The site and the images are not the API's: no association there.
    others = [b for b in config["CacheBehaviors"] if b["TargetOriginId"] not in api_origins]
    assert all("FunctionAssociations" not in b for b in [config["DefaultCacheBehavior"], *others])


def test_the_origin_secret_reaches_no_function(synth: Synth) -> None:
    secret_id = _secret_value(synth)["Fn::Join"][1][1]["Ref"]
    for name in [spec.name for spec in FUNCTIONS]:
        role = synth.function(name)["Properties"]["Role"]
        text = json.dumps(synth.role_statements(role))
        assert secret_id not in text, name
        assert secret_id not in json.dumps(synth.function(name)["Properties"]), name


def test_the_only_template_check_set_aside_is_sams_stage_reference(synth: Synth) -> None:
    (report,) = [
        p for p in synth.report["pluginReports"] if p["pluginName"] == "CloudFormation Validate"
    ]
    assert [
        (item["acknowledgedId"], item["acknowledgedAt"].split("/", 1)[1])
        for item in report["suppressedViolations"]
    ] == [("CloudFormation-Validate::F1020", "Firewall/StageAssociation")]
