"""Prints the reliability scenarios' figures as one table; every anomaly column must be 0."""

from __future__ import annotations

import json
import sys

from tests.reliability.figures import FILE

ORDER = [
    "1 load",
    "2 duplicate + reordered events",
    "3 poison messages",
    "4 crash mid-handler",
    "5 model faults",
    "6 AWS faults",
    "7 restarts (SIGKILL)",
    "8 whole stack restarted",
]


def main() -> int:
    data = json.loads(FILE.read_text()) if FILE.exists() else {}
    header = (
        f"\n{'reliability scenario':<34}{'ops':>6}{'anomalies':>11}{'5xx':>6}{'DLQ':>6}"
        f"{'stuck':>7}{'p95 submit→final':>18}"
    )
    print(header)
    bad = 0
    for name in ORDER + sorted(set(data) - set(ORDER)):
        row = data.get(name)
        if row is None:
            continue
        bad += row["anomalies"] + row["server_errors"] + row["stuck"]
        p95 = row["p95_submit_to_final"]
        print(
            f"{name:<34}{row['operations']:>6}{row['anomalies']:>11}{row['server_errors']:>6}"
            f"{row['dlq_messages']:>6}{row['stuck']:>7}"
            f"{(f'{p95:.1f} s' if p95 is not None else '-'):>18}"
        )
        for note in row.get("notes", []):
            print(f"    {note}")
    missing = [name for name in ORDER if name not in data]
    if missing:
        print(f"not run: {', '.join(missing)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
