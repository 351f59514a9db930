"""The security suite's figures: each test adds its counts; `report.py` prints the table."""

from __future__ import annotations

import json
import os
from pathlib import Path

FILE = Path(os.environ.get("OBJEKTIFY_SECURITY_FIGURES", "test-artifacts/security-figures.json"))


def add(row: str, checked: int, bad: int) -> None:
    FILE.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(FILE.read_text()) if FILE.exists() else {}
    old = data.get(row, [0, 0])
    data[row] = [old[0] + checked, old[1] + bad]
    FILE.write_text(json.dumps(data, indent=2))


def reset() -> None:
    FILE.unlink(missing_ok=True)
