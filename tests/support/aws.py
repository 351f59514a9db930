"""Direct looks at the emulator's state, for assertions a user-facing API cannot make."""

from __future__ import annotations

from typing import Any

import boto3

from local.config import StackState


def client(state: StackState, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=state.aws_endpoint,
        region_name=state.region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def name(state: StackState, suffix: str) -> str:
    """A resource name as the app's settings derive it for the local stage."""
    return f"objektify-{state.stage}-{suffix}"
