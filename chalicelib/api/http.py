"""The one place where service errors become the contract's `{code, message, details}`.

Also: JSON body parsing with a size limit, the caller from the bearer token, and the HTTP
middleware that gives every answer (Chalice's own errors included) the contract's shape,
security headers, a correlation id and a metric.

Who the caller is (accounts, identity: PynamoDB and, for a token, PyJWT) is imported by the
first request that asks, not when the API function starts (see app.py).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from chalice.app import Request, Response

from chalicelib.observability import count, flush, logger, measure
from chalicelib.services import errors
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.services import identity

STATUS: dict[type[errors.ServiceError], int] = {
    errors.InvalidRequest: 400,
    errors.InvalidCursor: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.ConsentRequired: 403,
    errors.AccountRestricted: 403,
    errors.InvalidSignature: 403,
    errors.NotFound: 404,
    errors.MethodNotAllowed: 405,
    errors.TermsOutdated: 409,
    errors.Conflict: 409,
    errors.LinkExpired: 410,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.PromptRejected: 422,
    errors.RateLimited: 429,
    errors.ServiceSuspended: 503,
    errors.Unavailable: 503,
}

# Chalice answers some requests itself, with {"Code", "Message"} bodies; these are ours instead.
_CHALICE_ERRORS: dict[int, type[errors.ServiceError]] = {
    400: errors.InvalidRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    413: errors.PayloadTooLarge,
    415: errors.UnsupportedMediaType,
}

F = TypeVar("F", bound=Callable[..., Any])

# Seconds a client waits before asking again after a dependency was briefly unavailable.
TRANSIENT_RETRY_AFTER = 2


def error_response(error: errors.ServiceError, headers: dict[str, str] | None = None) -> Response:
    status = next((STATUS[kind] for kind in type(error).__mro__ if kind in STATUS), 500)
    out: dict[str, str | list[str]] = dict(headers or {})
    if error.retry_after is not None:
        out["Retry-After"] = str(error.retry_after)
    body = {"code": error.code, "message": error.message, "details": error.details}
    return Response(body=body, status_code=status, headers=out)


def _dependency_unavailable() -> Response:
    """botocore's retries gave up on a throttle, a 5xx or a lost connection: 503 with
    Retry-After. Nothing half-done is acknowledged, and asking again converges on the state
    one uninterrupted request would have left (the crash-point tests check each handler)."""
    logger.warning("dependency unavailable", exc_info=True)
    return error_response(errors.Unavailable(retry_after=TRANSIENT_RETRY_AFTER))


def endpoint(view: F) -> F:
    """Wrap a view so a `ServiceError` becomes the contract's error answer, and AWS still
    throttling or failing after botocore's retries becomes 503 `unavailable`."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except errors.ServiceError as error:
            return error_response(error)
        except Exception as exc:
            if errors.is_transient(exc):
                return _dependency_unavailable()
            raise

    return cast(F, wrapper)


def json_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, within the size limit."""
    raw = request.raw_body or b""
    if len(raw) > get_settings().max_body_bytes:
        raise errors.PayloadTooLarge(
            details={"max_bytes": get_settings().max_body_bytes, "received_bytes": len(raw)}
        )
    if not raw.strip():
        raise errors.InvalidRequest("A JSON object body is required.", details={"body": "missing"})
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise errors.InvalidRequest(
            "The body is not valid JSON.", details={"body": "invalid JSON"}
        ) from exc
    if not isinstance(body, dict):
        raise errors.InvalidRequest(
            "The body must be a JSON object.", details={"body": "not an object"}
        )
    try:  # JSON may escape lone surrogates, which no UTF-8 store or log can hold
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise errors.InvalidRequest(
            "The body holds text that is not valid Unicode.", details={"body": "invalid text"}
        ) from exc
    return body


def query_params(request: Request) -> dict[str, str]:
    """Query parameters, one value each (the last one wins, as in API Gateway's map)."""
    return {name: str(value) for name, value in (request.query_params or {}).items()}


def caller_of(request: Request) -> identity.Caller:
    """The verified caller (a personal API key only on a route its scopes allow); an erased
    account's token or key is refused here (the profile read is memoised, so the rules that
    look at it later read nothing more)."""
    from chalicelib.services import accounts, identity

    route = (request.method, str((request.context or {}).get("resourcePath", "")))
    caller = identity.authenticate(request.headers.get("authorization"), route)
    accounts.load_profile(caller.user_id)
    return caller


def base_url(request: Request) -> str:
    """Where this API is reached from outside: the links it hands out start here."""
    configured = get_settings().api_base_url
    if configured:
        return configured
    host = request.headers.get("host", "localhost")
    scheme = request.headers.get("x-forwarded-proto", "http")
    stage = (request.context or {}).get("stage")
    prefix = f"/{stage}" if stage and "execute-api" in host else ""
    return f"{scheme}://{host}{prefix}"


def source_address(request: Request) -> str | None:
    ident = (request.context or {}).get("identity") or {}
    address = ident.get("sourceIp")
    return str(address) if address else None


def _normalise(response: Response) -> Response:
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        error_type = _CHALICE_ERRORS.get(response.status_code, errors.ServiceError)
        fixed = error_response(error_type())
        fixed.headers.update({k: v for k, v in response.headers.items() if k.lower() in ("allow",)})
        return fixed
    return response


def _cors(request: Request | None, response: Response) -> None:
    """Only the configured origins may read answers from a browser on another origin."""
    origin = request.headers.get("origin") if request is not None else None
    if origin and origin in get_settings().cors_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = (
            "Authorization,Content-Type,Idempotency-Key"
        )
        response.headers["Access-Control-Expose-Headers"] = "Location,Retry-After,ETag"
    response.headers["Vary"] = "Origin"


def _secure(response: Response) -> None:
    headers = response.headers
    lowered = {k.lower() for k in headers}
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if "cache-control" not in lowered:
        headers["Cache-Control"] = "no-store"
    if get_settings().stage != "local":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def http_middleware(request: Request | None, get_response: Callable[[Any], Response]) -> Response:
    """Correlation id, contract-shaped errors, security headers and a metric for every request."""
    from chalicelib.services import accounts

    started = time.perf_counter()
    request_id = None
    if request is not None:
        request_id = (request.context or {}).get("requestId")
        logger.set_correlation_id(request_id)
    try:
        with accounts.request_scope():
            response = _normalise(get_response(request))
    except Exception:
        logger.exception("unhandled error")
        response = error_response(errors.ServiceError())
    _secure(response)
    _cors(request, response)
    elapsed_ms = (time.perf_counter() - started) * 1000
    logger.info(
        "request",
        extra={
            "method": getattr(request, "method", None),
            "route": ((request.context or {}).get("resourcePath") if request else None),
            "status": response.status_code,
            "ms": round(elapsed_ms, 1),
        },
    )
    count("Requests")
    if response.status_code >= 500:
        count("ServerErrors")
    measure("Latency", "Milliseconds", elapsed_ms)
    flush()
    return response
