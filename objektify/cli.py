"""`objektify …`: developer and operator commands."""

from __future__ import annotations

import argparse
import sys


def _token(args: argparse.Namespace) -> int:
    from local.tokens import issue_token
    from objektify.local_stack import wait_for_stack

    print(issue_token(wait_for_stack(args.wait), args.user, tuple(args.group)))
    return 0


def _dataset_export(args: argparse.Namespace) -> int:
    from datetime import datetime

    from objektify.local_stack import use_local_stack_if_running
    from objektify.progress import progress

    where = use_local_stack_if_running()
    from chalicelib.services.dataset import export_dataset

    since = datetime.fromisoformat(args.since) if args.since else None
    with progress("dataset export", unit="records") as meter:
        result = export_dataset(args.out, since, on_progress=meter.update)
    print(
        f"dataset from {where}: {result.records} records in {result.shards} shards "
        f"({result.skipped_shards} unchanged, skipped) under {result.out}"
    )
    return 0


def _transparency_export(args: argparse.Namespace) -> int:
    import json
    from datetime import datetime
    from pathlib import Path

    from objektify.local_stack import use_local_stack_if_running
    from objektify.progress import progress

    where = use_local_stack_if_running()
    from chalicelib.services.transparency import dsa_statements

    since = datetime.fromisoformat(args.since) if args.since else None
    written = 0
    with (
        Path(args.out).open("w", encoding="utf-8") as out,
        progress("transparency export", unit="statements scanned") as meter,
    ):
        for statement in dsa_statements(since, on_progress=meter.update):
            out.write(json.dumps(statement, ensure_ascii=False, sort_keys=True) + "\n")
            written += 1
    print(f"{written} statements of reasons from {where} written to {args.out}")
    return 0


def _dlq_redrive(args: argparse.Namespace) -> int:
    from objektify.local_stack import use_local_stack_if_running

    where = use_local_stack_if_running()
    from objektify.dlq import redrive

    moved = redrive(args.queue)
    print(f"{moved} messages moved from {args.queue}-dlq back to {args.queue} ({where})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="objektify", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    token = commands.add_parser("token", help="print a bearer token the local stack accepts")
    token.add_argument("user", help="a local username, e.g. alice")
    token.add_argument(
        "--group",
        action="append",
        default=[],
        choices=["moderators", "admins"],
        help="a role for the user (repeatable)",
    )
    token.add_argument(
        "--wait",
        type=float,
        default=180.0,
        metavar="SECONDS",
        help="while `make dev` is still starting, wait this long for it (default: 180)",
    )
    token.set_defaults(run=_token)

    data = commands.add_parser("dataset", help="the training dataset")
    data_commands = data.add_subparsers(dest="dataset_command", required=True)
    export = data_commands.add_parser(
        "export", help="write every published image with its prompt and consent provenance"
    )
    export.add_argument("--out", required=True, help="s3://bucket/prefix")
    export.add_argument("--since", help="only images published at or after (ISO-8601)")
    export.set_defaults(run=_dataset_export)

    transparency = commands.add_parser("transparency", help="DSA transparency")
    transparency_commands = transparency.add_subparsers(dest="transparency_command", required=True)
    statements = transparency_commands.add_parser(
        "export",
        help="write the statements of reasons as JSON lines in the DSA Transparency Database's "
        "statement format (no personal data)",
    )
    statements.add_argument("--out", required=True, help="a file to write")
    statements.add_argument("--since", help="only decisions at or after (ISO-8601, with zone)")
    statements.set_defaults(run=_transparency_export)

    dlq = commands.add_parser("dlq", help="dead-letter queues")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    again = dlq_commands.add_parser("redrive", help="move a DLQ's messages back to its queue")
    again.add_argument("queue", help="the source queue's name, e.g. objektify-local-results")
    again.set_defaults(run=_dlq_redrive)

    from objektify.rollout import commands as model_commands

    model_commands.add_parser(commands)

    from objektify import credentials as credentials_commands
    from objektify import hashlist as hashlist_commands
    from objektify import provenance as provenance_commands

    credentials_commands.add_parser(commands)
    provenance_commands.add_parser(commands)
    hashlist_commands.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
