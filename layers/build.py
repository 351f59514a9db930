"""Build the Lambda layers: `layers/<name>/requirements.txt` → `build/layers/<name>/python/`.

Only wheels for the Lambda platform are installed (`python3.11` runs on Amazon Linux 2, x86_64,
glibc 2.26, so manylinux2014 wheels), never anything built from source on this machine. Modules
are compiled to hash-checked bytecode: Lambda cannot write `__pycache__` under /opt, so without
it every cold start would compile botocore again, and hash-based .pyc files keep the layer's
bytes (and so its asset hash) the same from one build to the next. A layer is built again only
when its requirements change.

Run: `python -m layers.build [--out DIR] [--force]` (what `make layers` does).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "layers"
DEFAULT_OUT = ROOT / "build" / "layers"
PYTHON_VERSION = "3.11"
LAMBDA_PATH = "/opt/python"
PIP_TARGET = [
    "--platform",
    "manylinux2014_x86_64",
    "--implementation",
    "cp",
    "--python-version",
    PYTHON_VERSION,
    "--only-binary=:all:",
    # The requirements pin the whole closure; nothing else may slip in.
    "--no-deps",
    "--no-compile",
]


def layer_names() -> list[str]:
    """Every layer: a folder under layers/ holding a requirements.txt."""
    return sorted(p.parent.name for p in SOURCES.glob("*/requirements.txt"))


def requirements_of(name: str) -> Path:
    return SOURCES / name / "requirements.txt"


def _fingerprint(name: str) -> str:
    recipe = requirements_of(name).read_bytes() + " ".join(PIP_TARGET).encode()
    return hashlib.sha256(recipe).hexdigest()


def build(name: str, out: Path = DEFAULT_OUT, force: bool = False) -> Path:
    """The layer's folder (its content under `python/`), built unless already current."""
    target, stamp = out / name, out / f"{name}.sha256"
    fingerprint = _fingerprint(name)
    if not force and target.is_dir() and stamp.exists() and stamp.read_text() == fingerprint:
        return target
    if sys.version_info[:2] != tuple(int(p) for p in PYTHON_VERSION.split(".")):
        raise SystemExit(f"build the layers with Python {PYTHON_VERSION} (bytecode is per version)")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as scratch:
        staged = Path(scratch) / name
        site = staged / "python"
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--quiet", *PIP_TARGET),
                *("--target", str(site), "-r", str(requirements_of(name))),
            ],
            check=True,
        )
        shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts: no use in Lambda
        # Paths in the bytecode name where Lambda mounts the layer, not this scratch folder.
        subprocess.run(
            [
                *(sys.executable, "-m", "compileall", "-q", "-j", "0"),
                *("--invalidation-mode", "unchecked-hash", "-s", str(site), "-p", LAMBDA_PATH),
                str(site),
            ],
            check=True,
        )
        shutil.rmtree(target, ignore_errors=True)
        staged.rename(target)
    stamp.write_text(fingerprint)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the Lambda layers.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true", help="rebuild even if current")
    args = parser.parse_args()
    for name in layer_names():
        print(f"layer {name}: {build(name, args.out, args.force)}", flush=True)


if __name__ == "__main__":
    main()
