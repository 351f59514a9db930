"""Request bodies as typed models. Imported lazily: pydantic costs ~80 ms at import, and only
routes that take a body pay it."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from chalicelib.services.errors import InvalidRequest


class Body(BaseModel):
    # Unknown fields (including ones a caller may not set, such as `owner` or `status`) are errors.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConsentBody(Body):
    version: StrictInt = Field(ge=1)
    sha256: StrictStr = Field(pattern=r"^[0-9a-fA-F]{64}$")


class TermsBody(Body):
    text: StrictStr = Field(min_length=1, max_length=100_000)


B = TypeVar("B", bound=Body)


def parse(model: type[B], body: dict[str, Any]) -> B:
    """Validate `body`; every problem is listed per field in the 400's details."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        details: dict[str, Any] = {}
        for problem in exc.errors(include_url=False, include_input=False):
            field = ".".join(str(part) for part in problem["loc"]) or "body"
            message = "unknown field" if problem["type"] == "extra_forbidden" else problem["msg"]
            details[field] = message
        raise InvalidRequest("Some fields are not valid.", details=details) from exc
