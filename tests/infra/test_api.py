"""The Chalice app as deployed: its functions, their event sources, environment and the REST API's
own answers."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from typing import Any

import pytest
from aws_cdk.assertions import Template
from chalice.app import SQSEventConfig

import app as chalice_app
from chalicelib.settings import PREFIX, Settings
from infra.gateway_responses import NO_ROUTE
from tests.infra.support import CONTEXT, Synth, arn_of, deployed_name, ref

FUNCTIONS = (
    "api_handler",
    "on_inference_result",
    "on_output_created",
    "on_upload_created",
    "sweep_stale_generations",
    "on_export_requested",
    "on_erasure_requested",
    "on_webhook_delivery",
    "on_generation_change",
    "on_decision_change",
    "dataset_export",
    "websocket_connect",
    "websocket_message",
    "websocket_disconnect",
)
# Settings the deployed functions must get from the stack, not from their defaults.
WIRED_SUFFIXES = ("_table", "_bucket", "_queue", "_topic")
WIRED = (
    "stage",
    "endpoint_name",
    "public_base_url",
    "cognito_issuer",
    "cognito_jwks_url",
    "cognito_client_ids",
    "cognito_user_pool_id",
    "flags_parameter",
    "signing_keys_secret",
    "address_hash_key_secret",
    "image_scanner",
)
SECRET_VALUES = ("signing_keys", "address_hash_key")
# Lambda's concurrency limit of an account unless raised.
DEFAULT_ACCOUNT_CONCURRENCY = 1000


def _variables(synth: Synth, name: str) -> dict[str, Any]:
    return dict(synth.function(name)["Properties"]["Environment"]["Variables"])


def test_every_function_chalice_makes_is_deployed_with_its_own_role_and_log_group(
    synth: Synth,
) -> None:
    functions = synth.of_type("AWS::Serverless::Function")
    assert len(functions) == len(FUNCTIONS)
    roles = set()
    for name in FUNCTIONS:
        props = synth.function(name)["Properties"]
        role_id = props["Role"]["Fn::GetAtt"][0]
        assert synth.resources[role_id]["Type"] == "AWS::IAM::Role"
        roles.add(role_id)
        (group,) = [
            g
            for g in synth.of_type("AWS::Logs::LogGroup").values()
            if g["Properties"].get("LogGroupName") == f"/aws/lambda/{props['FunctionName']}"
        ]
        assert group["Properties"]["RetentionInDays"] == 90
    assert len(roles) == len(FUNCTIONS)


def test_every_function_runs_python_3_12_with_its_layers(synth: Synth) -> None:
    """Amazon Linux 2023 (glibc 2.34), which c2pa-python's manylinux_2_28 wheels need; every
    function has the common layers, and only those that publish or check the provenance one."""
    by_name = {
        r["Properties"]["LayerName"].removeprefix(f"objektify-{CONTEXT['stage']}-"): k
        for k, r in synth.app_layers().items()
    }
    assert sorted(by_name) == ["imaging", "provenance", "runtime"]
    with_provenance = set()
    for name in FUNCTIONS:
        props = synth.function(name)["Properties"]
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == ["x86_64"]
        layers = {r["Ref"] for r in props["Layers"]}
        assert {by_name["runtime"], by_name["imaging"]} <= layers
        if by_name["provenance"] in layers:
            with_provenance.add(name)
    # app.py's own handlers load every route: the REST API's and the WebSocket API's.
    websocket = {"websocket_connect", "websocket_message", "websocket_disconnect"}
    # The upload scan computes PDQ hashes (pdqhash).
    assert with_provenance == {"api_handler", "on_output_created", "on_upload_created", *websocket}
    for layer in synth.app_layers().values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]


SQS_SOURCES = [s for s in chalice_app.app.event_sources if isinstance(s, SQSEventConfig)]


@pytest.mark.parametrize("source", SQS_SOURCES, ids=lambda s: s.name)
def test_sqs_handlers_read_the_stacks_queue_and_report_batch_item_failures(
    synth: Synth, source: SQSEventConfig
) -> None:
    queue_id, _ = synth.named("AWS::SQS::Queue", "QueueName", deployed_name(source.queue, "_queue"))
    (event,) = synth.function(source.name)["Properties"]["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == arn_of(queue_id)
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["Properties"]["BatchSize"] == source.batch_size


def test_every_background_function_has_reserved_concurrency_and_the_api_draws_on_the_rest(
    synth: Synth,
) -> None:
    assert "ReservedConcurrentExecutions" not in synth.function("api_handler")["Properties"]
    reserved = {}
    for name in [n for n in FUNCTIONS if n != "api_handler"]:
        props = synth.function(name)["Properties"]
        reserved[name] = props["ReservedConcurrentExecutions"]
        assert isinstance(reserved[name], int) and reserved[name] >= 1, name
    # A small share of a default account: the rest stays for the API.
    assert sum(reserved.values()) <= DEFAULT_ACCOUNT_CONCURRENCY // 10


def test_each_queue_is_polled_with_no_more_concurrency_than_its_function_has(synth: Synth) -> None:
    for source in SQS_SOURCES:
        props = synth.function(source.name)["Properties"]
        (event,) = props["Events"].values()
        assert event["Properties"]["ScalingConfig"] == {
            "MaximumConcurrency": props["ReservedConcurrentExecutions"]
        }, source.name


def test_the_sweeper_runs_every_minute(synth: Synth) -> None:
    (event,) = synth.function("sweep_stale_generations")["Properties"]["Events"].values()
    assert event == {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_gets_every_resource_name_from_the_stack(synth: Synth, name: str) -> None:
    variables = _variables(synth, name)
    wired = [f.name for f in fields(Settings) if f.name.endswith(WIRED_SUFFIXES)] + list(WIRED)
    for setting in wired:
        assert PREFIX + setting.upper() in variables, setting
    for setting in wired:
        if setting.endswith(WIRED_SUFFIXES):
            # A reference to the resource (so the function waits for it), never a bare string.
            assert isinstance(variables[PREFIX + setting.upper()], dict), setting
    assert variables[PREFIX + "STAGE"] == CONTEXT["stage"]
    assert variables[PREFIX + "IMAGE_SCANNER"] == "rekognition"
    for secret in SECRET_VALUES:
        assert PREFIX + secret.upper() not in variables


def test_token_verification_is_wired_to_the_user_pool(synth: Synth) -> None:
    variables = _variables(synth, "api_handler")
    (pool_id,) = synth.of_type("AWS::Cognito::UserPool")
    (client_id,) = synth.of_type("AWS::Cognito::UserPoolClient")
    issuer = {
        "Fn::Join": [
            "",
            [f"https://cognito-idp.{CONTEXT['region']}.", ref("AWS::URLSuffix"), "/", ref(pool_id)],
        ]
    }
    assert variables[PREFIX + "COGNITO_ISSUER"] == issuer
    jwks = variables[PREFIX + "COGNITO_JWKS_URL"]["Fn::Join"][1]
    assert jwks == [*issuer["Fn::Join"][1], "/.well-known/jwks.json"]
    assert variables[PREFIX + "COGNITO_CLIENT_IDS"] == ref(client_id)
    assert variables[PREFIX + "COGNITO_USER_POOL_ID"] == ref(pool_id)


def test_images_are_linked_through_the_cdn(synth: Synth) -> None:
    (cdn_id,) = synth.of_type("AWS::CloudFront::Distribution")
    assert _variables(synth, "api_handler")[PREFIX + "PUBLIC_BASE_URL"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [cdn_id, "DomainName"]}]]
    }


def test_secrets_are_named_not_given(synth: Synth) -> None:
    variables = _variables(synth, "api_handler")
    secrets = synth.of_type("AWS::SecretsManager::Secret")
    named = {
        variables[PREFIX + "SIGNING_KEYS_SECRET"]["Ref"],
        variables[PREFIX + "ADDRESS_HASH_KEY_SECRET"]["Ref"],
    }
    # The rest is the CDN's origin secret, which no function reads (tests/infra/test_firewall.py).
    assert named <= set(secrets) and len(secrets) == len(named) + 1


def _api(synth: Synth) -> dict[str, Any]:
    (api,) = synth.of_type("AWS::Serverless::Api").values()
    return dict(api["Properties"])


def test_unknown_routes_answer_the_contracts_404(synth: Synth) -> None:
    responses = _api(synth)["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    for kind in ("MISSING_AUTHENTICATION_TOKEN", "RESOURCE_NOT_FOUND"):
        assert responses[kind]["statusCode"] == "404"
        assert json.loads(responses[kind]["responseTemplates"]["application/json"]) == NO_ROUTE
        assert (
            responses[kind]["responseParameters"]["gatewayresponse.header.Content-Type"]
            == "'application/json'"
        )


def test_every_gateway_answer_has_the_contract_shape(synth: Synth) -> None:
    responses = _api(synth)["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED"} <= set(responses)
    for kind, response in responses.items():
        # API Gateway fills in its own message, already a JSON string.
        rendered = response["responseTemplates"]["application/json"].replace(
            "$context.error.messageString", '"API Gateway says why"'
        )
        body = json.loads(rendered)
        assert set(body) == {"code", "message", "details"}, kind
        assert body["code"].islower() and " " not in body["code"], kind
        assert body["details"] == {}
    assert (
        json.loads(responses["DEFAULT_5XX"]["responseTemplates"]["application/json"])["code"]
        == "internal_error"
    )
    assert responses["THROTTLED"]["statusCode"] == "429"
    assert "gatewayresponse.header.Retry-After" in responses["THROTTLED"]["responseParameters"]


def test_the_stage_logs_access_without_addresses_and_is_throttled(synth: Synth) -> None:
    api = _api(synth)
    (group_id,) = [
        part["Ref"]
        for part in api["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1]
        if isinstance(part, dict)
    ]
    assert synth.resources[group_id]["Type"] == "AWS::Logs::LogGroup"
    log_format = api["AccessLogSetting"]["Format"]
    assert "sourceIp" not in log_format and "userAgent" not in log_format
    assert json.loads(log_format)["route"] == "$context.resourcePath"
    (settings,) = api["MethodSettings"]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    assert settings["LoggingLevel"] == "OFF" and settings["DataTraceEnabled"] is False
    # API Gateway may log only once the region's account settings name its role.
    (account_id,) = synth.of_type("AWS::ApiGateway::Account")
    assert account_id in synth.resources[group_id]["DependsOn"]


def test_the_api_url_is_an_output(template: Template) -> None:
    template.has_output(
        "EndpointURL",
        {
            "Value": {
                "Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/"
            }
        },
    )


def _deployed_value(synth: Synth, value: Any) -> str:
    """A plausible deployed value of a template value, as long as AWS would make it."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        return "".join(_deployed_value(synth, part) for part in value["Fn::Join"][1])
    if "Fn::Sub" in value:  # the WebSocket API's URLs: an id, a region, a suffix
        return re.sub(r"\$\{[^}]+\}", "x" * 14, str(value["Fn::Sub"]))
    if value.get("Ref") == "AWS::URLSuffix":
        return "amazonaws.com"
    logical_id = value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]
    resource = synth.resources[logical_id]
    props = resource["Properties"]
    for key in ("TableName", "BucketName", "QueueName", "TopicName", "EndpointName"):
        if key in props:
            return str(props[key])
    if resource["Type"] == "AWS::SecretsManager::Secret":
        return f"arn:aws:secretsmanager:{CONTEXT['region']}:{CONTEXT['account']}:secret:{props['Name']}-AbCdEf"
    if resource["Type"] == "AWS::SSM::Parameter":
        return str(props["Name"])
    if resource["Type"] == "AWS::KMS::Key":
        key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
        return f"arn:aws:kms:{CONTEXT['region']}:{CONTEXT['account']}:key/{key_id}"
    sizes = {"AWS::Cognito::UserPool": 26, "AWS::Cognito::UserPoolClient": 26}
    if resource["Type"] == "AWS::CloudFront::Distribution":
        return "d1234567890abc.cloudfront.net"
    return "x" * sizes[resource["Type"]]


def test_the_environment_fits_lambdas_four_kilobytes(synth: Synth) -> None:
    for name in FUNCTIONS:
        variables = _variables(synth, name)
        size = sum(len(k) + len(_deployed_value(synth, v)) for k, v in variables.items())
        assert size < 3500, (name, size)  # of 4096: room for a few more settings
