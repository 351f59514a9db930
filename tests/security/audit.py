"""pip-audit over the lock file: fails on a known vulnerability; says plainly how many packages
the advisory service could not answer for (from here it often answers for none)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--require-hashes",
        "--disable-pip",
        "--vulnerability-service",
        "pypi",
        "--format",
        "json",
        "-r",
        str(ROOT / "requirements" / "lock.txt"),
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        print("pip-audit skipped: the advisory service did not answer in time")
        return 0
    try:
        report = json.loads(result.stdout)
    except ValueError:
        print(f"pip-audit skipped: no report ({result.stderr.strip()[-200:]})")
        return 0
    packages = report.get("dependencies", [])
    skipped = [p for p in packages if p.get("skip_reason")]
    vulnerable = [p for p in packages if p.get("vulns")]
    audited = len(packages) - len(skipped)
    print(
        f"pip-audit: {len(packages)} locked packages, {audited} audited, "
        f"{len(vulnerable)} with known vulnerabilities, {len(skipped)} not auditable from here "
        "(the advisory service had no data for them)"
    )
    for package in vulnerable:
        ids = ", ".join(v["id"] for v in package["vulns"])
        print(f"  {package['name']} {package['version']}: {ids}")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
