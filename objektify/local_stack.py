"""The local stack as the commands see it: whether one runs (or is starting) here, and pointing
them at it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local.config import StackState


def use_local_stack_if_running() -> str:
    """Point at the local stack when one runs here and no AWS endpoint is configured."""
    import os

    from local.config import STATE_FILE, StackState, app_env, local_dir

    if os.environ.get("AWS_ENDPOINT_URL") or not (local_dir() / STATE_FILE).exists():
        return "AWS (from the environment)"
    state = StackState.load()
    os.environ.update(app_env(state, local_dir()))
    return f"the local stack at {state.aws_endpoint}"


WAITING = "waiting for the local stack to finish starting (make dev) ..."


def wait_for_stack(timeout: float, poll: float = 0.2) -> StackState:
    """The running local stack's state; while one is starting here (`make dev` writes its state
    only once every part answers), wait up to `timeout` seconds for it, saying so once on
    stderr. With nothing starting, the answer is at once: start it with `make dev`."""
    import sys
    import time

    from local.config import STATE_FILE, StackState, local_dir, stack_starting

    directory = local_dir()
    deadline = time.monotonic() + timeout
    waited = False
    while not (directory / STATE_FILE).exists():
        if not stack_starting(directory):
            if waited and not (directory / STATE_FILE).exists():
                raise SystemExit(
                    "The local stack stopped before it finished starting: see the `make dev` "
                    "output, and start it again."
                )
            break  # ready meanwhile, or nothing starts: load says which
        left = deadline - time.monotonic()
        if left <= 0:
            raise SystemExit(
                f"The local stack in {directory} is still starting after {timeout:g}s; "
                "wait for `make dev` to say it is running, or wait longer with --wait."
            )
        if not waited:
            print(WAITING, file=sys.stderr, flush=True)
            waited = True
        time.sleep(min(poll, left))
    return StackState.load(directory)
