"""Prints the security suite's figures as one table; every "bad" column must be 0."""

from __future__ import annotations

import json
import sys

from tests.security.figures import FILE

ROWS = [
    ("authorization matrix cells", "checked", "differing"),
    ("token attacks", "tried", "accepted"),
    ("token attacks on the WebSocket connect", "tried", "accepted"),
    ("API key attacks", "tried", "accepted"),
    ("API key cells", "checked", "differing"),
    ("moderators' and operators' keys on their routes", "tried", "let through"),
    ("fuzz cases", "run", "failing checks"),
    ("fuzzer error answers checked for leaks", "seen", "leaking"),
    ("hostile inputs", "tried", "not refused or left state"),
    ("mass assignment attempts", "tried", "let through"),
    ("parallel submits past the quota", "fired", "over the limit"),
    ("orders of delete, report and decision", "tried", "dodged a decision or strike"),
    ("privileged requests of a banned moderator", "tried", "let through"),
    ("moderator on self, above rank or no one", "tried", "let through"),
    ("revoked review links opened", "tried", "opened"),
    ("header checks", "made", "failed"),
    ("log lines scanned for secrets", "scanned", "secrets found"),
]


def main() -> int:
    data = json.loads(FILE.read_text()) if FILE.exists() else {}
    print(f"\n{'security figures':<42}{'count':>10}  {'bad':>6}")
    bad_total = 0
    for row, good, bad in ROWS:
        count, failures = data.get(row, [0, 0])
        bad_total += failures
        print(f"{row:<42}{count:>10}  {failures:>6}   ({good} / {bad})")
    missing = [row for row, _, _ in ROWS if row not in data]
    if missing:
        print(f"not measured in this run: {', '.join(missing)}")
    return 1 if bad_total else 0


if __name__ == "__main__":
    sys.exit(main())
