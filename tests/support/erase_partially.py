"""Run an erasure in this process and kill the process (SIGKILL-like, no cleanup) right after
step `--die-after` finished, as a crashed Lambda would stop. Without `--die-after`, run it whole.
The environment must point at the stack (the test passes the app's own settings)."""

from __future__ import annotations

import argparse
import os

from chalicelib.services import erasure


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("user_id")
    parser.add_argument("--die-after")
    args = parser.parse_args()
    steps = []
    for step in erasure.STEPS:
        steps.append(step)
        if step.__name__ == args.die_after:

            def die(user_id: str, _done: object = step) -> None:
                os._exit(137)

            steps.append(die)
    erasure.STEPS = tuple(steps)
    erasure.finish_erasure(args.user_id)


if __name__ == "__main__":
    main()
