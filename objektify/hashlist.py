"""`objektify hashlist import FILE`: add a hash-sharing programme's list of PDQ hashes to the
hashes uploads are refused for.

    objektify hashlist import ncmec-pdq.csv                       # list "ncmec-pdq", illegal
    objektify hashlist import partner.csv --list partner --category sexual

The file is the ThreatExchange / Hasher-Matcher-Actioner CSV of PDQ hashes: one hash (64 hex
digits) a row, an optional header naming the columns (`hash`, `pdq_hash`, `signal_value`…,
`quality`, `signal_type`), other columns (ids, timestamps, tags) ignored. Every row is checked
before anything is written; a bad row stops the import with its line number (exit 2) and
nothing is imported. Importing the same list again changes nothing. Runs against the local
stack when one runs here, else against AWS as the environment configures it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def _import(args: argparse.Namespace) -> int:
    from objektify.local_stack import use_local_stack_if_running

    where = use_local_stack_if_running()
    from chalicelib.services import hash_lists

    list_name = args.list or hash_lists.list_name_of(args.file)
    try:
        imported = hash_lists.import_list(args.file, list_name, args.category)
    except hash_lists.HashListError as exc:
        print(f"{args.file}: {exc}; nothing was imported", file=sys.stderr)
        return 2
    print(
        f"{imported} PDQ hashes imported into list {list_name!r} "
        f"(category {args.category}) on {where}"
    )
    return 0


def add_parser(commands: Any) -> None:
    hashlist = commands.add_parser("hashlist", help="hash lists uploads are checked against")
    hashlist_commands = hashlist.add_subparsers(dest="hashlist_command", required=True)
    imported = hashlist_commands.add_parser(
        "import", help="import a ThreatExchange / HMA CSV of PDQ hashes (idempotent)"
    )
    imported.add_argument("file", help="the CSV file")
    imported.add_argument("--list", help="the list's name (default: from the file's name)")
    imported.add_argument(
        "--category",
        default="illegal",
        help="what an upload matching it is rejected as (default: illegal)",
    )
    imported.set_defaults(run=_import)
