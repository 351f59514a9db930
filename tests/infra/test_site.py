"""The web client in AWS: its files in the public bucket under their own prefix, served with the
gallery's images and the API from one CloudFront origin, and its `app/config.json`."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any

import pytest

import app as chalice_app
from chalicelib.settings import PREFIX
from chalicelib.web_front import PAGE_HEADERS, WEB_ROOT, content_security_policy
from tests.infra.support import ACCOUNT, CONTEXT, REGION, ROOT, Synth, ref, stage_settings

# CloudFront's managed policies (their ids are fixed by AWS).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
# Every viewer header (Authorization included), cookie and query string, but not Host: AWS's
# policy for API Gateway origins, which must see their own domain in Host.
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ALL_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
HOSTED_UI = f"https://objektify-{CONTEXT['stage']}-{ACCOUNT}.auth.{REGION}.amazoncognito.com"


def _distribution(synth: Synth) -> tuple[str, dict[str, Any]]:
    ((cdn_id, cdn),) = synth.of_type("AWS::CloudFront::Distribution").items()
    return cdn_id, cdn["Properties"]["DistributionConfig"]


def _origin(config: dict[str, Any], behaviour: dict[str, Any]) -> dict[str, Any]:
    (origin,) = [o for o in config["Origins"] if o["Id"] == behaviour["TargetOriginId"]]
    return dict(origin)


def _behaviours(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["PathPattern"]: b for b in config.get("CacheBehaviors", [])}


def _public_bucket_id(synth: Synth) -> str:
    bucket_id, _ = synth.named("AWS::S3::Bucket", "BucketName", stage_settings().public_bucket)
    return bucket_id


def _deployment(synth: Synth) -> dict[str, Any]:
    ((_, deployment),) = synth.of_type("Custom::CDKBucketDeployment").items()
    return dict(deployment["Properties"])


def _site_files() -> list[str]:
    """Every path a viewer asks for to get the site."""
    files = {"/" + p.relative_to(WEB_ROOT).as_posix() for p in WEB_ROOT.rglob("*") if p.is_file()}
    return ["/", "/app/config.json", *sorted(files)]


def _headers(synth: Synth, policy_id: str) -> dict[str, Any]:
    config = synth.resources[policy_id]["Properties"]["ResponseHeadersPolicyConfig"]
    security = config.get("SecurityHeadersConfig", {})
    found: dict[str, Any] = {
        h["Header"]: h["Value"] for h in config.get("CustomHeadersConfig", {}).get("Items", [])
    }
    if "ContentSecurityPolicy" in security:
        found["Content-Security-Policy"] = security["ContentSecurityPolicy"][
            "ContentSecurityPolicy"
        ]
    if "ContentTypeOptions" in security:
        found["X-Content-Type-Options"] = "nosniff"
    if "ReferrerPolicy" in security:
        found["Referrer-Policy"] = security["ReferrerPolicy"]["ReferrerPolicy"]
    if "FrameOptions" in security:
        found["X-Frame-Options"] = security["FrameOptions"]["FrameOption"]
    if "StrictTransportSecurity" in security:
        found["Strict-Transport-Security"] = security["StrictTransportSecurity"]
    return found


def _render(value: Any) -> str:
    """A deploy-time value as readable text: `{Ref:Id}`, `{Id.Attribute}`."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        return "".join(_render(part) for part in value["Fn::Join"][1])
    if "Ref" in value:
        return f"{{Ref:{value['Ref']}}}"
    return "{{{}.{}}}".format(*value["Fn::GetAtt"])


def _config_json(synth: Synth) -> dict[str, Any]:
    """`app/config.json` as the deployment writes it, deploy-time values rendered."""
    deployment = _deployment(synth)
    assets = json.loads((synth.outdir / f"objektify-{CONTEXT['stage']}.assets.json").read_text())
    found = []
    for key, markers in zip(
        deployment["SourceObjectKeys"], deployment["SourceMarkers"], strict=True
    ):
        source = assets["files"][key.removesuffix(".zip")]["source"]
        candidate = synth.outdir / source["path"] / "app" / "config.json"
        if candidate.is_file():
            text = candidate.read_text()
            for marker, value in markers.items():
                text = text.replace(marker, _render(value))
            found.append(json.loads(text))
    (config,) = found
    return dict(config)


def _read_keys(pattern: str, files: str = "**/*.js") -> set[str]:
    """The config keys the client's modules read (web/app/...)."""
    text = "\n".join(p.read_text() for p in (ROOT / "web" / "app").glob(files))
    return set(re.findall(pattern, text))


def test_the_site_is_deployed_to_its_own_prefix_so_the_gallery_survives_pruning(
    synth: Synth,
) -> None:
    deployment = _deployment(synth)
    assert deployment["DestinationBucketName"] == ref(_public_bucket_id(synth))
    assert deployment["DestinationBucketKeyPrefix"] == "site/"
    # Pruning deletes what is not in the sources, under the prefix only.
    assert deployment["Prune"] is True
    from infra.storage import PUBLIC_PREFIX

    assert not PUBLIC_PREFIX.startswith(deployment["DestinationBucketKeyPrefix"])
    assert deployment["RetainOnDelete"] is True


def test_the_distribution_serves_the_site_at_its_root_and_the_images_beside_it(
    synth: Synth,
) -> None:
    _, config = _distribution(synth)
    bucket_domain = {"Fn::GetAtt": [_public_bucket_id(synth), "RegionalDomainName"]}
    site = _origin(config, config["DefaultCacheBehavior"])
    assert site["DomainName"] == bucket_domain
    assert site["OriginPath"] == "/site"
    assert config["DefaultRootObject"] == "index.html"
    images = _behaviours(config)["/images/*"]
    origin = _origin(config, images)
    assert origin["DomainName"] == bucket_domain
    assert "OriginPath" not in origin  # `/images/x` is the object `images/x`
    assert images["AllowedMethods"] == ["GET", "HEAD"]


def test_a_deployment_invalidates_the_site_and_nothing_else(synth: Synth) -> None:
    cdn_id, config = _distribution(synth)
    deployment = _deployment(synth)
    assert deployment["DistributionId"] == ref(cdn_id)
    paths = deployment["DistributionPaths"]
    for file in _site_files():
        assert any(fnmatchcase(file, p) for p in paths), file
    others = ["/images/a.webp", *(b for b in _behaviours(config) if b != "/images/*")]
    for path in others:
        assert not any(fnmatchcase(path.rstrip("*"), p) for p in paths), path


def test_config_json_signs_in_through_cognito_and_never_offers_the_dev_sign_in(
    synth: Synth,
) -> None:
    config = _config_json(synth)
    (cdn_id,) = synth.of_type("AWS::CloudFront::Distribution")
    (client_id,) = synth.of_type("AWS::Cognito::UserPoolClient")
    site_url = f"https://{{{cdn_id}.DomainName}}/"
    assert config["mode"] == "cognito"
    assert config["apiBaseUrl"] == ""  # the API is on the site's own origin
    assert "devSignIn" not in config
    assert "devSignIn" not in json.dumps(config)
    assert config["cognito"] == {
        "domain": HOSTED_UI,
        "clientId": f"{{Ref:{client_id}}}",
        "scopes": ["openid"],
        "redirectUri": site_url,
        "logoutUri": site_url,
    }


def test_config_json_holds_what_the_client_reads(synth: Synth) -> None:
    config = _config_json(synth)
    # auth.js reads config.cognito as `settings.<key>`, every one of them.
    assert set(config["cognito"]) == _read_keys(r"\bsettings\.(\w+)", "auth.js")
    # Nothing the client does not read (`pageSize` is optional: the API's default applies).
    assert set(config) <= _read_keys(r"\bconfig\.(\w+)")
    assert {"mode", "apiBaseUrl", "cognito"} <= set(config)


def test_the_hosted_ui_has_a_domain_named_after_the_stage_and_account(synth: Synth) -> None:
    (pool_id,) = synth.of_type("AWS::Cognito::UserPool")
    ((_, domain),) = synth.of_type("AWS::Cognito::UserPoolDomain").items()
    prefix = f"objektify-{CONTEXT['stage']}-{ACCOUNT}"
    assert domain["Properties"] == {"Domain": prefix, "UserPoolId": ref(pool_id)}
    # The client is sent to this very domain (Cognito's URL for a prefix domain).
    hosted_ui = f"https://{prefix}.auth.{REGION}.amazoncognito.com"
    assert _config_json(synth)["cognito"]["domain"] == hosted_ui


def test_every_function_accepts_the_web_clients_tokens(synth: Synth) -> None:
    (client_id,) = synth.of_type("AWS::Cognito::UserPoolClient")
    for function in synth.of_type("AWS::Serverless::Function").values():
        value = function["Properties"]["Environment"]["Variables"][PREFIX + "COGNITO_CLIENT_IDS"]
        accepted = _render(value).split(",")
        assert f"{{Ref:{client_id}}}" in accepted, function["Properties"]["FunctionName"]


def _api_patterns() -> list[str]:
    segments = {path.strip("/").split("/")[0] for path in chalice_app.app.routes}
    return sorted(f"/{segment}*" for segment in segments)


def test_every_top_level_route_segment_reaches_the_api_uncached_with_its_headers(
    synth: Synth,
) -> None:
    _, config = _distribution(synth)
    behaviours = _behaviours(config)
    api = {p: b for p, b in behaviours.items() if p != "/images/*"}
    assert sorted(api) == _api_patterns()
    for pattern, behaviour in api.items():
        origin = _origin(config, behaviour)
        host = origin["DomainName"]["Fn::Join"][1]
        assert host[:2] == [ref("RestAPI"), f".execute-api.{REGION}."], pattern
        assert origin["OriginPath"] == "/api"
        assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
        assert behaviour["CachePolicyId"] == CACHING_DISABLED, pattern
        assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER, pattern
        assert set(behaviour["AllowedMethods"]) == ALL_METHODS, pattern
        assert behaviour["ViewerProtocolPolicy"] == "https-only", pattern
    # CloudFront's default quota of cache behaviours per distribution.
    assert len(behaviours) + 1 <= 25


@pytest.mark.parametrize("route", sorted(chalice_app.app.routes))
def test_every_route_goes_to_the_api_and_no_site_or_image_path_does(
    synth: Synth, route: str
) -> None:
    _, config = _distribution(synth)
    api = [p for p in _behaviours(config) if p != "/images/*"]
    path = re.sub(r"\{[^}]+\}", "x1", route)
    assert any(fnmatchcase(path, p) for p in api), route
    for file in [*_site_files(), "/images/x1.webp"]:
        assert not any(fnmatchcase(file, p) for p in api), file


def test_the_site_sends_the_local_content_security_policy_and_page_headers(
    synth: Synth,
) -> None:
    _, config = _distribution(synth)
    headers = _headers(synth, config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]["Ref"])
    originals = stage_settings().originals_bucket
    review = [
        f"https://{originals}.s3.amazonaws.com",
        f"https://{originals}.s3.{REGION}.amazonaws.com",
    ]
    uploads_bucket = stage_settings().uploads_bucket
    uploads = [
        f"https://{uploads_bucket}.s3.amazonaws.com",
        f"https://{uploads_bucket}.s3.{REGION}.amazonaws.com",
    ]
    policy = headers["Content-Security-Policy"]
    sockets = f"wss://*.execute-api.{REGION}.amazonaws.com"
    assert policy == content_security_policy(
        [*review, *uploads], connect_origins=[HOSTED_UI, sockets, *uploads]
    )
    # The gallery's images come from this very distribution; fetches go here and to Cognito,
    # live updates to the WebSocket API (made after this policy: the region's API hosts), an
    # uploaded picture straight to the uploads bucket's presigned POST.
    assert "img-src 'self' blob: data: https://" in policy
    assert f"connect-src 'self' {HOSTED_UI} {sockets} {' '.join(uploads)};" in policy
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert {k: headers.get(k) for k in PAGE_HEADERS} == PAGE_HEADERS
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Strict-Transport-Security"]["AccessControlMaxAgeSec"] >= 31_536_000


def test_api_answers_and_images_carry_transport_and_framing_headers(synth: Synth) -> None:
    _, config = _distribution(synth)
    for pattern, behaviour in _behaviours(config).items():
        headers = _headers(synth, behaviour["ResponseHeadersPolicyId"]["Ref"])
        assert headers["X-Content-Type-Options"] == "nosniff", pattern
        assert headers["X-Frame-Options"] == "DENY", pattern
        assert headers["Referrer-Policy"] == "no-referrer", pattern
        assert headers["Strict-Transport-Security"]["AccessControlMaxAgeSec"] >= 31_536_000
        # A page's policy would be wrong for JSON and images; Cache-Control is the app's own.
        assert "Content-Security-Policy" not in headers and "Cache-Control" not in headers


def test_the_api_is_same_origin_so_no_cors_origin_is_allowed(synth: Synth) -> None:
    for function in synth.of_type("AWS::Serverless::Function").values():
        assert PREFIX + "CORS_ORIGINS" not in function["Properties"]["Environment"]["Variables"]


def test_the_api_does_not_wait_for_its_function_which_waits_for_the_distribution(
    synth: Synth,
) -> None:
    """Function → (image links, client id) → distribution → API: the API must not reference the
    function back, or CloudFormation refuses the cycle."""
    api = synth.resources["RestAPI"]
    assert "APIHandler" not in json.dumps(api)
    name = synth.function("api_handler")["Properties"]["FunctionName"]
    uris = [
        operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        for item in api["Properties"]["DefinitionBody"]["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "x-amazon-apigateway-integration" in operation
    ]
    assert len(uris) == sum(len(methods) for methods in chalice_app.app.routes.values())
    assert all(uri.endswith(f":function:{name}/invocations") for uri in uris)
