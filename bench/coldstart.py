"""Cold start: median wall time of a fresh `python -c "import app"` against a fresh
`python -c "import boto3"`, measured in the same run. Prints figures; asserts nothing."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 15


def median_seconds(code: str) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    median_seconds("import app")  # warm the file cache and bytecode first
    boto3_s = median_seconds("import boto3")
    app_s = median_seconds("import app")
    print(f"cold import, median of {RUNS} fresh interpreters")
    print(f"  import boto3 : {boto3_s * 1000:7.1f} ms")
    print(f"  import app   : {app_s * 1000:7.1f} ms")
    print(f"  ratio        : {app_s / boto3_s:7.2f}  (goal <= 1.3)")


if __name__ == "__main__":
    main()
