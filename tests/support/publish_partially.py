"""Run `objektify model publish` in this process and stop dead (no cleanup, as a killed
operator's shell would) right after the step named by `--die-after`. The environment points at
the local stack through OBJEKTIFY_LOCAL_DIR, as for the `objektify` command."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from objektify.local_stack import use_local_stack_if_running
from objektify.rollout import publish
from objektify.rollout.target import Target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("archive")
    parser.add_argument("--version", required=True)
    parser.add_argument("--die-after", required=True)
    args = parser.parse_args()
    use_local_stack_if_running()
    steps = []
    for step in publish.STEPS:
        steps.append(step)
        if step.__name__ == args.die_after:

            def die(_: object) -> None:
                os._exit(137)

            steps.append(die)
    publish.STEPS = tuple(steps)
    publish.publish(Path(args.archive), args.version, Target.from_settings(poll_seconds=1), print)


if __name__ == "__main__":
    main()
