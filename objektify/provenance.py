"""`objektify provenance …`: was this image made here?"""

from __future__ import annotations

import argparse


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `provenance` command group."""
    group = commands.add_parser("provenance", help="check whether an image was made here")
    group.add_subparsers(dest="provenance_command", required=True)
