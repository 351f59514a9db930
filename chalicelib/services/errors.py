"""Every failure a client can see, one type each. The API maps them to the contract's body."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import aws


class ServiceError(Exception):
    """A refusal the client is told about, with a stable machine-readable code."""

    code = "internal_error"
    default_message = "Something went wrong."

    def __init__(
        self,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details: dict[str, Any] = details or {}
        self.retry_after = retry_after


class Unauthorized(ServiceError):
    code = "unauthorized"
    default_message = "A valid bearer token is required."


class Forbidden(ServiceError):
    code = "forbidden"
    default_message = "Your role does not allow this."


class NotFound(ServiceError):
    code = "not_found"
    default_message = "Not found."


class MethodNotAllowed(ServiceError):
    code = "method_not_allowed"
    default_message = "This method is not allowed here."


class InvalidRequest(ServiceError):
    code = "invalid_request"
    default_message = "The request is not valid."


class InvalidImage(InvalidRequest):
    code = "invalid_image"
    default_message = "The body is not a PNG, JPEG or WebP image this service can read."


class PayloadTooLarge(ServiceError):
    code = "payload_too_large"
    default_message = "The request body is too large."


class UnsupportedMediaType(ServiceError):
    code = "unsupported_media_type"
    default_message = "Send the body as application/json."


class InvalidCursor(ServiceError):
    code = "invalid_cursor"
    default_message = "The cursor is not valid."


class ConsentRequired(ServiceError):
    code = "consent_required"
    default_message = "Accept the current Terms of Service first."


class AccountRestricted(ServiceError):
    code = "account_restricted"
    default_message = "This account is restricted."


class TermsOutdated(ServiceError):
    code = "terms_outdated"
    default_message = "These are not the current terms."


class PromptRejected(ServiceError):
    code = "prompt_rejected"
    default_message = "The prompt breaks the content policy."


class RateLimited(ServiceError):
    code = "rate_limited"
    default_message = "Too many requests; try again later."


class ServiceSuspended(ServiceError):
    code = "service_suspended"
    default_message = "This part of the service is switched off for now."


class InvalidSignature(ServiceError):
    code = "invalid_signature"
    default_message = "The link's signature is not valid."


class LinkExpired(ServiceError):
    code = "link_expired"
    default_message = "The link has expired."


class Conflict(ServiceError):
    code = "conflict"
    default_message = "The request conflicts with the current state."


class NameTaken(Conflict):
    code = "name_taken"
    default_message = "Another user has this display name."


class TooManyApiKeys(Conflict):
    code = "too_many_api_keys"
    default_message = "This account holds as many API keys as it may; revoke one first."


class UnderReview(Conflict):
    code = "under_review"
    default_message = "This image awaits a moderator's decision; it can be deleted after."


class AlreadyAppealed(Conflict):
    code = "already_appealed"
    default_message = "This decision has been appealed already; one appeal per decision."


class AppealWindowClosed(Conflict):
    code = "appeal_window_closed"
    default_message = "Decisions can be appealed for six months; this one is older."


class ConflictOfInterest(Forbidden):
    code = "conflict_of_interest"
    default_message = "Whoever made a decision does not decide its appeal; another moderator will."


class Unavailable(ServiceError):
    code = "unavailable"
    default_message = "A dependency is unavailable; try again shortly."


def is_transient(exc: BaseException) -> bool:
    """True when `exc` is an AWS call's failure that a later try may not meet (throttling, a
    5xx, a lost connection) after botocore's own retries gave up: the client may ask again.
    False for a real refusal and for anything that is not AWS's. The judgement is botocore's
    (chalicelib/adapters/aws.py)."""
    return aws.is_transient(exc)
