"""Service switches: Powertools feature flags kept in an SSM parameter (JSON), cached briefly.

Each switch is a non-boolean feature whose value is `{"enabled": bool, "message": str}`, so an
operator's message travels with it. AppConfig would be Powertools' own store, but the local
emulator has none, and SSM Parameter Store behaves the same in both worlds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.once import built_once
from chalicelib.services.errors import InvalidRequest, NotFound, ServiceSuspended
from chalicelib.settings import get_settings
from chalicelib.switches import SWITCHES, default_document


@dataclass(frozen=True)
class Switch:
    name: str
    enabled: bool
    message: str


@built_once
def _flags() -> Any:
    from aws_lambda_powertools.utilities.feature_flags import FeatureFlags
    from aws_lambda_powertools.utilities.feature_flags.base import StoreProvider
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    from chalicelib.adapters.aws import client

    settings = get_settings()
    provider = SSMProvider(boto3_client=client("ssm"))

    class SsmStore(StoreProvider):
        @property
        def get_raw_configuration(self) -> dict[str, Any]:
            raw = provider.get(settings.flags_parameter, max_age=settings.flags_cache_seconds)
            return dict(json.loads(str(raw)))

        def get_configuration(self) -> dict[str, Any]:
            return self.get_raw_configuration

    return FeatureFlags(store=SsmStore())


def _state(name: str) -> Switch:
    value = _flags().evaluate(name=name, default={"enabled": True, "message": ""})
    if not isinstance(value, dict):
        return Switch(name, bool(value), "")
    return Switch(name, bool(value.get("enabled", True)), str(value.get("message") or ""))


def require_enabled(name: str) -> None:
    """503 service_suspended, with the operator's message, when the switch is off."""
    state = _state(name)
    if not state.enabled:
        message = state.message or f"The {name} part of the service is switched off for now."
        raise ServiceSuspended(
            message, details={"switch": name}, retry_after=get_settings().suspended_retry_after
        )


def list_switches() -> list[Switch]:
    return [_state(name) for name in SWITCHES]


def set_switch(name: str, enabled: bool, message: str | None) -> Switch:
    """Write one switch; other processes see it within `flags_cache_seconds`."""
    if name not in SWITCHES:
        raise NotFound(f"No switch named {name!r}.", details={"switches": list(SWITCHES)})
    if message is not None and len(message) > 500:
        raise InvalidRequest(details={"message": "at most 500 characters"})
    from chalicelib.adapters.aws import client

    settings = get_settings()
    ssm = client("ssm")
    try:
        document = json.loads(
            ssm.get_parameter(Name=settings.flags_parameter)["Parameter"]["Value"]
        )
    except ssm.exceptions.ParameterNotFound:
        document = default_document()
    document[name] = {
        "boolean_type": False,
        "default": {"enabled": enabled, "message": message or ""},
    }
    ssm.put_parameter(
        Name=settings.flags_parameter, Value=json.dumps(document), Type="String", Overwrite=True
    )
    _flags.cache_clear()
    return Switch(name, enabled, message or "")
