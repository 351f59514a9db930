from __future__ import annotations

import inspect
import json

import pytest
from chalice.app import Response

from chalicelib.api import http, schemas
from chalicelib.services import errors


def all_error_types() -> list[type[errors.ServiceError]]:
    return [
        obj
        for _, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, errors.ServiceError) and obj is not errors.ServiceError
    ]


@pytest.mark.parametrize("error_type", all_error_types())
def test_every_client_visible_error_has_a_status_and_code(error_type: type) -> None:
    response = http.error_response(error_type())
    assert 400 <= response.status_code < 600
    assert response.body["code"] == error_type.code
    assert set(response.body) == {"code", "message", "details"}


def test_retry_after_becomes_a_header() -> None:
    response = http.error_response(errors.RateLimited(retry_after=42))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "42"


def test_chalice_default_error_bodies_are_rewritten() -> None:
    chalice_answer = Response(
        body={"Code": "BadRequestError", "Message": "Error Parsing JSON"}, status_code=400
    )
    fixed = http.http_middleware(None, lambda _: chalice_answer)
    assert fixed.status_code == 400
    assert fixed.body["code"] == "invalid_request"


def test_unhandled_exception_is_a_contract_500_without_a_trace() -> None:
    def explode(_: object) -> Response:
        raise RuntimeError("secret internals")

    answer = http.http_middleware(None, explode)
    assert answer.status_code == 500
    assert "secret internals" not in json.dumps(answer.body)
    assert answer.body["code"] == "internal_error"


def test_body_validation_lists_each_bad_field() -> None:
    with pytest.raises(errors.InvalidRequest) as refused:
        schemas.parse(schemas.ConsentBody, {"version": 0, "sha256": "zz", "owner": "x"})
    assert set(refused.value.details) == {"version", "sha256", "owner"}
    assert refused.value.details["owner"] == "unknown field"


def _client_error(code: str, status: int) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "TransactWriteItems",
    )


@pytest.mark.parametrize(
    "failure",
    [
        _client_error("ThrottlingException", 400),
        _client_error("ProvisionedThroughputExceededException", 400),
        _client_error("ServiceUnavailable", 503),
        _client_error("SlowDown", 503),
    ],
)
def test_aws_still_refusing_after_retries_is_a_503_with_retry_after(failure: Exception) -> None:
    from pynamodb.exceptions import TransactWriteError

    @http.endpoint
    def throttled() -> Response:
        raise TransactWriteError("Failed to write transaction items", cause=failure)

    answer = throttled()
    assert answer.status_code == 503
    assert answer.body["code"] == "unavailable"
    assert int(answer.headers["Retry-After"]) > 0


def test_a_lost_connection_to_aws_is_a_503() -> None:
    from botocore.exceptions import EndpointConnectionError

    @http.endpoint
    def unreachable() -> Response:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    assert unreachable().status_code == 503


def test_an_aws_refusal_that_a_retry_cannot_fix_stays_a_500() -> None:
    @http.endpoint
    def invalid() -> Response:
        raise _client_error("ValidationException", 400)

    answer = http.http_middleware(None, lambda _: invalid())
    assert answer.status_code == 500
    assert "Retry-After" not in answer.headers


def test_a_view_with_a_programming_error_still_raises() -> None:
    @http.endpoint
    def view() -> Response:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        view()
