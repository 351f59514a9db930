"""boto3 clients, created lazily (boto3 costs ~130 ms at import) and once per process.

Endpoints come from boto3's own `AWS_ENDPOINT_URL*` settings, so the same code reaches AWS or
the local emulator. Retries use botocore's retry modes from settings.
"""

from __future__ import annotations

from typing import Any

from chalicelib.once import built_once
from chalicelib.settings import get_settings


def retries() -> Any:
    """botocore's retry configuration for every AWS client, PynamoDB's included."""
    settings = get_settings()
    return {"mode": settings.aws_retry_mode, "max_attempts": settings.aws_max_attempts}


@built_once
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    config = Config(
        region_name=settings.region,
        retries=retries(),
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=32,
        signature_version="s3v4" if service == "s3" else None,
    )
    return boto3.session.Session().client(service, config=config)


# DynamoDB's transaction cancellation reasons that mean "not now" rather than "no" (botocore's
# retry checkers only see the call's own error code, TransactionCanceledException).
_TRANSIENT_CANCELLATIONS = frozenset(
    {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"}
)


def is_transient(exc: BaseException) -> bool:
    """True when an AWS call failed for a reason that a later try may not meet (throttling, a
    5xx, a lost connection), after botocore's own retries gave up; False for a real refusal.
    The judgement is botocore's standard retry mode's own; PynamoDB's errors are looked
    through to the botocore error they carry."""
    from botocore.awsrequest import AWSResponse
    from botocore.exceptions import ClientError
    from botocore.retries.standard import (
        OrRetryChecker,
        RetryContext,
        ThrottledRetryableChecker,
        TransientRetryableChecker,
    )

    checker = OrRetryChecker([TransientRetryableChecker(), ThrottledRetryableChecker()])
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ClientError):
            status = current.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            context = RetryContext(
                attempt_number=1,
                parsed_response=current.response,
                http_response=AWSResponse(None, status, {}, None) if status else None,
            )
        else:
            context = RetryContext(attempt_number=1, caught_exception=current)
        if checker.is_retryable(context):
            return True
        reasons = getattr(current, "cancellation_reasons", None) or []
        if any(getattr(reason, "code", None) in _TRANSIENT_CANCELLATIONS for reason in reasons):
            return True
        current = getattr(current, "cause", None) or current.__cause__ or current.__context__
    return False
