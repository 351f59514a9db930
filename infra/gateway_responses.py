"""API Gateway's own answers (no route, throttled, too large, …) in the contract's error shape.

API Gateway answers an unknown path or method with `403 Missing Authentication Token` before
any Lambda runs; the contract says `404 not_found`, as the local server answers
(local/api_server.py). These go into the API's OpenAPI document, so a change redeploys the stage.
"""

from __future__ import annotations

import json
from typing import Any

NO_ROUTE = {"code": "not_found", "message": "No such route.", "details": {}}
# API Gateway's own sentence about what went wrong, already a quoted JSON string.
GATEWAY_MESSAGE = "$context.error.messageString"

# type: (status or None to keep API Gateway's, code, fixed message or None for the gateway's)
RESPONSES: dict[str, tuple[str | None, str, str | None]] = {
    "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found", "No such route."),
    "RESOURCE_NOT_FOUND": ("404", "not_found", "No such route."),
    "UNAUTHORIZED": ("401", "unauthorized", "A valid bearer token is required."),
    "ACCESS_DENIED": ("403", "forbidden", None),
    "WAF_FILTERED": ("403", "forbidden", None),
    "BAD_REQUEST_BODY": ("400", "invalid_request", None),
    "BAD_REQUEST_PARAMETERS": ("400", "invalid_request", None),
    "REQUEST_TOO_LARGE": ("413", "payload_too_large", "The request body is too large."),
    "UNSUPPORTED_MEDIA_TYPE": ("415", "unsupported_media_type", None),
    "THROTTLED": ("429", "rate_limited", "Too many requests; try again shortly."),
    "QUOTA_EXCEEDED": ("429", "rate_limited", "Too many requests; try again later."),
    "INTEGRATION_TIMEOUT": ("504", "unavailable", "The service took too long; try again."),
    "DEFAULT_4XX": (None, "invalid_request", None),
    "DEFAULT_5XX": (None, "internal_error", "Something went wrong."),
}
RETRY_AFTER = {"THROTTLED": "1", "QUOTA_EXCEEDED": "60", "INTEGRATION_TIMEOUT": "5"}
HEADERS = {
    "Content-Type": "application/json",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def body_template(code: str, message: str | None) -> str:
    """A mapping template rendering `{code, message, details}`."""
    text = json.dumps(message) if message is not None else GATEWAY_MESSAGE
    return f'{{"code":{json.dumps(code)},"message":{text},"details":{{}}}}'


def openapi_extension() -> dict[str, Any]:
    """The value of `x-amazon-apigateway-gateway-responses`."""
    out: dict[str, Any] = {}
    for kind, (status, code, message) in RESPONSES.items():
        headers = dict(HEADERS)
        if kind in RETRY_AFTER:
            headers["Retry-After"] = RETRY_AFTER[kind]
        response: dict[str, Any] = {
            "responseParameters": {
                f"gatewayresponse.header.{name}": f"'{value}'" for name, value in headers.items()
            },
            "responseTemplates": {"application/json": body_template(code, message)},
        }
        if status is not None:
            response["statusCode"] = status
        out[kind] = response
    return out
