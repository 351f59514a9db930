"""The local stack as the commands see it: whether one runs here, and pointing them at it."""

from __future__ import annotations


def use_local_stack_if_running() -> str:
    """Point at the local stack when one runs here and no AWS endpoint is configured."""
    import os

    from local.config import STATE_FILE, StackState, app_env, local_dir

    if os.environ.get("AWS_ENDPOINT_URL") or not (local_dir() / STATE_FILE).exists():
        return "AWS (from the environment)"
    state = StackState.load()
    os.environ.update(app_env(state, local_dir()))
    return f"the local stack at {state.aws_endpoint}"
