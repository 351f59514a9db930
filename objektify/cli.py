"""`objektify …`: developer and operator commands."""

from __future__ import annotations

import argparse
import sys


def _token(args: argparse.Namespace) -> int:
    from local.config import StackState
    from local.tokens import issue_token

    print(issue_token(StackState.load(), args.user, tuple(args.group)))
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
    token.set_defaults(run=_token)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
