"""Build the Lambda layers: `layers/<name>/requirements.txt` → `build/layers/<name>/python/`.

The functions run on Lambda's `python3.12` runtime (Amazon Linux 2023, x86_64, glibc 2.34), so
only wheels built for CPython 3.12 and glibc ≤ 2.34 (manylinux_2_34 down to manylinux2014) are
installed. The one exception is a dependency with no wheel at all (`FROM_SOURCE`: pdqhash): it
is compiled here with Python 3.12 into a wheel that links libstdc++ and libgcc statically, and
is refused unless its extension asks nothing newer of glibc than 2.34 and nothing of libstdc++
(`foreign_symbols`). Modules are compiled to hash-checked bytecode, by Python 3.12: Lambda
cannot write `__pycache__` under /opt, so without it every cold start would compile botocore
again, and hash-based .pyc files keep the layer's bytes (and so its asset hash) the same from
one build to the next. A layer is built again only when its recipe changes.

Run: `python -m layers.build [--out DIR] [--force]` (what `make layers` does). Python 3.12 is
found as `$OBJEKTIFY_LAMBDA_PYTHON`, `python3.12` on the PATH, or a pyenv 3.12 install.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "layers"
DEFAULT_OUT = ROOT / "build" / "layers"
PYTHON_VERSION = "3.12"
# Amazon Linux 2023's glibc: the newest symbol version a native module may need.
GLIBC = (2, 34)
LAMBDA_PATH = "/opt/python"
# pip takes a `manylinux_2_28` platform literally (only the legacy manylinux2014/2010 names
# expand to older tags), so every glibc the runtime can load is named.
PLATFORMS = [
    *(f"manylinux_2_{minor}_x86_64" for minor in range(GLIBC[1], 16, -1)),
    "manylinux2014_x86_64",
]
PIP_TARGET = [
    *(arg for platform in PLATFORMS for arg in ("--platform", platform)),
    "--implementation",
    "cp",
    "--python-version",
    PYTHON_VERSION,
    "--only-binary=:all:",
    # The requirements pin the whole closure; nothing else may slip in.
    "--no-deps",
    "--no-compile",
]
# Published only as source distributions: built here for Lambda (see `build_from_source`).
FROM_SOURCE = frozenset({"pdqhash"})
# A C++ extension built on this machine must not need the system's libstdc++ (Amazon Linux's
# may be older) nor a newer glibc than Lambda's: libstdc++ is linked in, with a stand-in for
# the one newer glibc function it calls (layers/native/arc4random.c). libgcc stays shared
# (libgcc_s.so.1, on every Linux, as numpy's own wheels expect): GCC 12's static unwinder calls
# _dl_find_object, which is glibc 2.35.
STATIC_RUNTIME = "-static-libstdc++"
# No debug information (it names this machine's scratch folders): the same source gives the
# same bytes, so the layer's asset hash only changes when its content does.
REPRODUCIBLE = {"CFLAGS": "-g0", "LDFLAGS": "-Wl,--strip-debug"}
COMPAT_SOURCE = SOURCES / "native" / "arc4random.c"
# What a wheel ships that is never loaded at run time, removed to keep the functions well under
# Lambda's 250 MB: c2pa-python's Rust static library and make dependency file (31 MB; the
# bindings load libc2pa_c.so), numpy's and PyWavelets' own test suites (23 MB).
PRUNE = ("c2pa/libs/*.rlib", "c2pa/libs/*.d", "numpy/**/tests", "pywt/tests")
_VERSIONED = re.compile(r"\b(GLIBC|GLIBCXX|CXXABI)_([0-9.]+)\b")


def layer_names() -> list[str]:
    """Every layer: a folder under layers/ holding a requirements.txt."""
    return sorted(p.parent.name for p in SOURCES.glob("*/requirements.txt"))


def requirements_of(name: str) -> Path:
    return SOURCES / name / "requirements.txt"


def pinned_lines(name: str) -> list[str]:
    """The layer's requirement lines, comments dropped."""
    lines = (line.split("#")[0].strip() for line in requirements_of(name).read_text().splitlines())
    return [line for line in lines if line]


def lambda_python() -> str:
    """A Python 3.12 interpreter: it compiles the bytecode and any source distribution."""
    candidates = [os.environ.get("OBJEKTIFY_LAMBDA_PYTHON", ""), f"python{PYTHON_VERSION}"]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(map(str, pyenv.glob(f"{PYTHON_VERSION}.*/bin/python{PYTHON_VERSION}")))
    wanted = f"{sys.implementation.name} {PYTHON_VERSION}"
    probe = "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2])"
    for candidate in filter(None, candidates):
        found = shutil.which(candidate)
        if found is None:
            continue
        result = subprocess.run([found, "-c", probe], capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.strip() == wanted:
            return found
    raise SystemExit(
        f"the layers need Python {PYTHON_VERSION} (Lambda's runtime): install it or set "
        "OBJEKTIFY_LAMBDA_PYTHON"
    )


def foreign_symbols(extension: Path) -> list[str]:
    """What `extension` needs that Lambda's python3.12 runtime may not have: glibc symbol
    versions newer than 2.34, any libstdc++ (GLIBCXX, CXXABI) symbol, a libstdc++ NEEDED."""
    dynamic = subprocess.run(
        ["objdump", "-T", "-p", str(extension)], capture_output=True, text=True, check=True
    ).stdout
    found = set()
    for family, version in _VERSIONED.findall(dynamic):
        numbers = tuple(int(part) for part in version.split("."))
        if family != "GLIBC" or numbers > GLIBC:
            found.add(f"{family}_{version}")
    needed = {
        line.split()[-1] for line in dynamic.splitlines() if line.strip().startswith("NEEDED")
    }
    return sorted(found | (needed & {"libstdc++.so.6"}))


def build_from_source(requirement: str, python: str, wheels: Path, constraints: Path) -> Path:
    """A wheel for Lambda from a source distribution, built by Python 3.12 on this machine.

    The build's own dependencies (numpy, Cython) are held to the layer's pins (its
    requirements file as pip constraints).
    """
    name = canonicalize_name(Requirement(requirement).name)
    wheels.mkdir(parents=True, exist_ok=True)
    compat = wheels / "arc4random.o"
    subprocess.run(["cc", "-O2", "-fPIC", "-c", str(COMPAT_SOURCE), "-o", str(compat)], check=True)
    env = {
        **os.environ,
        "CFLAGS": REPRODUCIBLE["CFLAGS"],
        "LDFLAGS": f"{STATIC_RUNTIME} {REPRODUCIBLE['LDFLAGS']} {compat}",
        "PIP_CONSTRAINT": str(constraints),
    }
    subprocess.run(
        [
            *(python, "-m", "pip", "wheel", "--quiet", "--no-cache-dir", "--no-deps"),
            *("--no-binary", name),
            *("--wheel-dir", str(wheels), requirement),
        ],
        check=True,
        env=env,
    )
    (wheel,) = [w for w in wheels.glob("*.whl") if canonicalize_name(w.name.split("-")[0]) == name]
    return wheel


def _forget_wheel_path(site: Path, wheel: Path) -> None:
    """pip notes where a local wheel came from (this build's scratch folder) in the installed
    dist-info's direct_url.json: drop it, and its line in RECORD, so the layer's bytes repeat."""
    distribution, version = wheel.name.split("-")[:2]
    info = site / f"{distribution}-{version}.dist-info"
    (info / "direct_url.json").unlink()
    record = info / "RECORD"
    lines = record.read_text().splitlines(keepends=True)
    record.write_text("".join(line for line in lines if "/direct_url.json," not in line))


def _fingerprint(name: str) -> str:
    recipe = [requirements_of(name).read_bytes(), " ".join(PIP_TARGET).encode()]
    recipe += [" ".join(sorted(FROM_SOURCE)).encode(), STATIC_RUNTIME.encode()]
    recipe += [COMPAT_SOURCE.read_bytes(), " ".join(PRUNE).encode(), repr(REPRODUCIBLE).encode()]
    return hashlib.sha256(b"\n".join(recipe)).hexdigest()


def build(name: str, out: Path = DEFAULT_OUT, force: bool = False) -> Path:
    """The layer's folder (its content under `python/`), built unless already current."""
    target, stamp = out / name, out / f"{name}.sha256"
    fingerprint = _fingerprint(name)
    if not force and target.is_dir() and stamp.exists() and stamp.read_text() == fingerprint:
        return target
    python = lambda_python()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as scratch:
        staged = Path(scratch) / name
        site = staged / "python"
        binary = Path(scratch) / "binary.txt"
        lines = pinned_lines(name)
        from_source = [
            line for line in lines if canonicalize_name(Requirement(line).name) in FROM_SOURCE
        ]
        binary.write_text("\n".join(line for line in lines if line not in from_source) + "\n")
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--quiet", *PIP_TARGET),
                *("--target", str(site), "-r", str(binary)),
            ],
            check=True,
        )
        for requirement in from_source:
            wheel = build_from_source(
                requirement, python, Path(scratch) / "wheels", requirements_of(name)
            )
            subprocess.run(
                [
                    *(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile"),
                    *("--target", str(site), str(wheel)),
                ],
                check=True,
            )
            _forget_wheel_path(site, wheel)
        for extension in site.rglob("*.so"):
            if any(canonicalize_name(part) in FROM_SOURCE for part in extension.parts):
                foreign = foreign_symbols(extension)
                if foreign:
                    raise SystemExit(f"{extension.name} would not load on Lambda: {foreign}")
        shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts: no use in Lambda
        for pattern in PRUNE:
            for path in sorted(site.glob(pattern), reverse=True):  # inner folders first
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
        # Paths in the bytecode name where Lambda mounts the layer, not this scratch folder.
        subprocess.run(
            [
                *(python, "-m", "compileall", "-q", "-j", "0"),
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
