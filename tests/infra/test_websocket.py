"""The WebSocket API as deployed (issue 18): Chalice's routes to the app's three handlers, a
stage with access logs that leave out the query string (the connect's token) and the REST API's
throttling, and its URLs in the functions' environment and the stack's outputs."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.support import Synth


def _one(synth: Synth, kind: str) -> dict[str, Any]:
    (resource,) = synth.of_type(kind).values()
    return dict(resource)


def test_the_three_routes_reach_the_apps_websocket_handlers(synth: Synth) -> None:
    api = _one(synth, "AWS::ApiGatewayV2::Api")
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    routes = {
        r["Properties"]["RouteKey"]: r for r in synth.of_type("AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    handlers = {
        "$connect": "WebsocketConnect",
        "$disconnect": "WebsocketDisconnect",
        "$default": "WebsocketMessage",
    }
    for key, route in routes.items():
        integration_id = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        integration = synth.resources[integration_id]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY"
        uri = json.dumps(integration["IntegrationUri"])
        assert handlers[key] in uri, (key, uri)
        function = synth.resources[handlers[key]]["Properties"]
        assert (
            function["Handler"]
            == f"app.websocket_{handlers[key].removeprefix('Websocket').lower()}"
        )


def test_the_stage_logs_no_query_string_and_is_throttled(synth: Synth) -> None:
    stage = _one(synth, "AWS::ApiGatewayV2::Stage")["Properties"]
    assert stage["StageName"] == "api"
    log_format = stage["AccessLogSettings"]["Format"]
    for leak in ("queryString", "request.querystring", "identity.sourceIp", "userAgent"):
        assert leak.lower() not in log_format.lower()
    settings = stage["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    assert settings["DataTraceEnabled"] is False
    assert settings["LoggingLevel"] == "OFF"


def test_every_function_knows_where_clients_connect_and_where_to_push(synth: Synth) -> None:
    for function in synth.of_type("AWS::Serverless::Function").values():
        variables = function["Properties"]["Environment"]["Variables"]
        url = variables["OBJEKTIFY_WEBSOCKET_URL"]["Fn::Sub"]
        management = variables["OBJEKTIFY_WEBSOCKET_MANAGEMENT_URL"]["Fn::Sub"]
        assert url[0].startswith("wss://${Api}.execute-api.") and url[0].endswith("/api")
        assert management[0].startswith("https://${Api}.execute-api.")
        assert url[1] == management[1] == {"Api": {"Ref": "WebsocketAPI"}}
    output = synth.template["Outputs"]["WebsocketUrl"]["Value"]["Fn::Sub"]
    assert output[0].startswith("wss://")
