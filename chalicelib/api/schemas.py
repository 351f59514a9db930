"""Request bodies as typed models. Imported lazily: pydantic costs ~80 ms at import, and only
routes that take a body pay it."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from chalicelib.services.errors import InvalidRequest
from chalicelib.settings import get_settings


def visible_text(value: str, field: str) -> str:
    """Text a person can see: no NUL, and more than invisible or combining characters."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if not any(unicodedata.category(c)[0] in "LNPS" for c in value):
        raise ValueError(f"{field} must contain visible characters")
    return value


def confirming(what: str) -> Callable[[bool], bool]:
    """A statement the caller must confirm: JSON true and nothing else (with StrictBool; a
    Literal[True] would take 1 for it)."""

    def check(value: bool) -> bool:
        if value is not True:
            raise ValueError(f"must be true: {what}")
        return value

    return check


class Body(BaseModel):
    # Unknown fields (including ones a caller may not set, such as `owner` or `status`) are errors.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConsentBody(Body):
    version: StrictInt = Field(ge=1)
    sha256: StrictStr = Field(pattern=r"^[0-9a-fA-F]{64}$")


class TermsBody(Body):
    text: StrictStr = Field(min_length=1, max_length=100_000)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return visible_text(value, "the text")


# Preset aspects and the size each paints: sides multiples of 64, about 512 x 512 pixels.
ASPECTS: dict[str, tuple[int, int]] = {
    "1:1": (512, 512),
    "4:3": (576, 448),
    "3:4": (448, 576),
    "16:9": (768, 448),
    "9:16": (448, 768),
}
SCHEDULERS = ("euler", "euler_a", "dpmpp_2m", "ddim")
MAX_BATCH = 4


class GenerationBody(Body):
    # Required unless `remix_of` names the image whose prompt is taken.
    prompt: StrictStr | None = None
    negative_prompt: StrictStr | None = None
    width: StrictInt | None = None
    height: StrictInt | None = None
    steps: StrictInt | None = None
    seed: StrictInt | None = Field(default=None, ge=0, le=2**32 - 1)
    guidance_scale: StrictFloat | None = Field(default=None, ge=1, le=20, allow_inf_nan=False)
    scheduler: Literal["euler", "euler_a", "dpmpp_2m", "ddim"] | None = None
    aspect: Literal["1:1", "4:3", "3:4", "16:9", "9:16"] | None = None
    n: StrictInt = Field(default=1, ge=1, le=MAX_BATCH)
    remix_of: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    # Image-to-image: the caller's own ready upload to start from, and how far from it to go.
    init_image: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    strength: StrictFloat | None = Field(default=None, ge=0.05, le=1.0, allow_inf_nan=False)

    @field_validator("strength", mode="before")
    @classmethod
    def _whole_strength(cls, value: Any) -> Any:
        # 1 means 1.0; true is no number.
        return float(value) if type(value) is int else value

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not 1 <= len(value) <= 2000:
            raise ValueError("must be 1 to 2000 characters after trimming")
        return visible_text(value, "the prompt")

    @field_validator("negative_prompt")
    @classmethod
    def _negative(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if len(value) > 2000:
            raise ValueError("must be at most 2000 characters")
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value or None

    @field_validator("width", "height")
    @classmethod
    def _size(cls, value: int | None) -> int | None:
        settings = get_settings()
        low, high = settings.min_size, settings.max_size
        if value is not None and (value % 64 or not low <= value <= high):
            raise ValueError(f"must be a multiple of 64 from {low} to {high}")
        return value

    @model_validator(mode="after")
    def _together(self) -> GenerationBody:
        problems: dict[str, str] = {}
        if self.prompt is None and self.remix_of is None:
            problems["prompt"] = "Field required"
        if self.aspect is not None and (self.width is not None or self.height is not None):
            problems["aspect"] = "give an aspect or a width and height, not both"
        if self.strength is not None and self.init_image is None:
            problems["strength"] = "strength is for init_image only"
        if self.init_image is not None and self.remix_of is not None:
            problems["init_image"] = "give init_image or remix_of, not both"
        if self.init_image is not None and "strength" not in problems:
            from chalicelib.services.image_to_image import DEFAULT_STRENGTH

            # The model runs strength times steps of them (rounded down): none paints nothing.
            steps = get_settings().default_steps if self.steps is None else self.steps
            strength = DEFAULT_STRENGTH if self.strength is None else self.strength
            if int(steps * strength) < 1:
                problems["strength"] = "strength times steps must come to at least one step"
        if self.seed is not None and self.seed + self.n - 1 > 2**32 - 1:
            problems["seed"] = f"seed + n - 1 must be at most {2**32 - 1}"
        if problems:
            raise InvalidRequest("Some fields are not valid.", details=problems)
        return self

    @field_validator("steps")
    @classmethod
    def _steps(cls, value: int | None) -> int | None:
        maximum = get_settings().max_steps
        if value is not None and not 1 <= value <= maximum:
            raise ValueError(f"must be from 1 to {maximum}")
        return value


class ProfileBody(Body):
    # Required, and null clears it: `{}` is refused rather than read as "no change".
    display_name: StrictStr | None

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if not 3 <= len(value) <= 30:
            raise ValueError("must be 3 to 30 characters after trimming")
        # No controls or invisible characters (bidi overrides, zero-width joiners): a name
        # others see must read as what it is.
        if any(unicodedata.category(c)[0] == "C" for c in value):
            raise ValueError("must not contain control or invisible characters")
        return visible_text(value, "the name")


class ReportBody(Body):
    reason: Literal["sexual", "violent", "hateful", "illegal", "copyright", "privacy", "other"]
    note: StrictStr | None = Field(default=None, max_length=1000)


class DecisionBody(Body):
    action: Literal["approve", "remove"]
    reason: StrictStr = Field(min_length=1, max_length=1000)
    category: (
        Literal["sexual", "violent", "hateful", "illegal", "copyright", "privacy", "other"] | None
    ) = None


class RestrictionBody(Body):
    action: Literal["suspend", "ban", "restore"]
    reason: StrictStr = Field(min_length=1, max_length=1000)
    until: AwareDatetime | None = None


class RevocationBody(Body):
    reason: StrictStr = Field(min_length=1, max_length=1000)


class Notifier(Body):
    name: StrictStr = Field(min_length=1, max_length=200)
    # An address a person can be written to; its delivery is not checked here.
    email: StrictStr = Field(max_length=254, pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return visible_text(value, "the name")


class NoticeBody(Body):
    image_id: StrictStr = Field(min_length=1, max_length=64)
    category: Literal["copyright", "privacy", "illegal", "terms"]
    explanation: StrictStr = Field(min_length=1, max_length=5000)
    notifier: Notifier
    # DSA art. 16(2)(d): the notifier confirms their good faith.
    good_faith: Annotated[
        StrictBool, AfterValidator(confirming("the notice is accurate and complete"))
    ]

    @field_validator("explanation")
    @classmethod
    def _explanation(cls, value: str) -> str:
        return visible_text(value, "the explanation")


class AppealBody(Body):
    explanation: StrictStr = Field(min_length=1, max_length=5000)


class AppealDecisionBody(Body):
    action: Literal["uphold", "reverse"]
    reason: StrictStr = Field(min_length=1, max_length=1000)


class FlagBody(Body):
    enabled: StrictBool
    message: StrictStr | None = Field(default=None, max_length=500)


class UploadBody(Body):
    # Whose picture it is to use: the uploader's own, or one they hold a licence for.
    rights: Literal["own", "licensed"]
    # The uploader attests that they may use it and that it shows no one without their consent.
    attest: Annotated[
        StrictBool,
        AfterValidator(
            confirming("you may use this picture and it shows no one without their consent")
        ),
    ]
    content_type: Literal["image/png", "image/jpeg", "image/webp"] = "image/png"


class WebhookBody(Body):
    # Whether the URL may be called is the SSRF guard's decision (services/webhook_guard.py).
    url: StrictStr = Field(min_length=1, max_length=2048)


class ApiKeyBody(Body):
    # A label for the person who holds several keys; shown back to them only.
    name: StrictStr = Field(min_length=1, max_length=100)
    scopes: list[Literal["generate", "read"]] = Field(min_length=1, max_length=2)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = " ".join(value.split())
        if any(unicodedata.category(c)[0] == "C" for c in value):
            raise ValueError("must not contain control or invisible characters")
        return visible_text(value, "the name")

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each scope at most once")
        return value


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
            message = message.removeprefix("Value error, ")
            details[field] = message
        raise InvalidRequest("Some fields are not valid.", details=details) from exc
