"""Run one step of the product in this process and die (no cleanup, like a killed Lambda) right
after its N-th write to AWS was applied and answered; without `--die-after`, run it whole and
print how many writes it made. The environment must point at the stack (the app's settings).

Steps: submit USER KEY PROMPT | result GENERATION | scan GENERATION |
report USER GENERATION | remove MODERATOR GENERATION
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from botocore.client import BaseClient

READ_PREFIXES = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "Head", "Receive")


def count_writes(die_after: int | None) -> list[str]:
    writes: list[str] = []
    original = BaseClient._make_api_call

    def call(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        answer = original(self, operation, params)
        if not operation.startswith(READ_PREFIXES):
            writes.append(operation)
            if die_after is not None and len(writes) == die_after:
                os._exit(137)
        return answer

    BaseClient._make_api_call = call  # type: ignore[method-assign]
    return writes


class Context:
    """A Lambda context with little time left: a generation whose submit dies in it may be
    started again by a retry soon after, as when a real invocation's time runs out."""

    def __init__(self) -> None:
        self._deadline = time.monotonic() + 1.0

    def get_remaining_time_in_millis(self) -> int:
        return max(1, int((self._deadline - time.monotonic()) * 1000))


def run(step: str, args: list[str]) -> Any:
    from chalicelib.services import generation, moderation, reports, scan, submission
    from chalicelib.settings import get_settings

    if step == "submit":
        user, key, prompt = args
        request = submission.GenerationRequest(prompt, None, 512, 512, 1, 7)
        return submission.submit(submission.admit(user), request, key, Context()).id
    if step == "result":
        note = {"inferenceId": args[0], "invocationStatus": "Completed"}
        return generation.record_inference_result(note)
    if step == "scan":
        return scan.scan_output(get_settings().originals_bucket, f"outputs/{args[0]}.png")
    if step == "report":
        return reports.file_report(args[0], args[1], "other", None)
    if step == "remove":
        return moderation.decide(args[0], args[1], "remove", "crash test", "illegal").status
    raise SystemExit(f"unknown step {step}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step")
    parser.add_argument("args", nargs="*")
    parser.add_argument("--die-after", type=int)
    options = parser.parse_args()
    writes = count_writes(options.die_after)
    result = run(options.step, options.args)
    print(json.dumps({"result": result, "writes": writes}, default=str))


if __name__ == "__main__":
    main()
