"""`objektify credentials …`: the certificate chain that signs the content credentials."""

from __future__ import annotations

import argparse


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `credentials` command group."""
    group = commands.add_parser("credentials", help="the C2PA signing certificate chain")
    group.add_subparsers(dest="credentials_command", required=True)
