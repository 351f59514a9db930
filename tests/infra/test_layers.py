"""The Lambda layers: pinned to what the tests run with, complete for every function's code, and
the deployed artifacts (the app's package and each function's layers) import every handler on
their own, in Lambda's Python (3.12), within Lambda's size limit."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from layers.build import FROM_SOURCE, GLIBC, foreign_symbols, lambda_python
from tests.infra.support import CONTEXT, REGION, ROOT, Synth

# Imported only when a setting chooses it, and never in AWS: the optional NudeNet scanner (and
# the numpy it hands its pixels in), by module.
OPTIONAL = {"chalicelib.adapters.image_scanner": {"nudenet", "numpy"}}
# Publishing signs the served copies (c2pa). Only the API (approvals, reversals, reinstated
# accounts) and the scan publish: the other functions reach the publishing module through the
# lifecycle's other transitions, never sign, and carry no provenance layer.
SIGNING = {"chalicelib.provenance.credentials": {"c2pa"}}
PUBLISHERS = {"app", "chalicelib.events.scan"}
# PDQ hashing: the scans fingerprint what they pass, and a moderator's removal or a reversed
# appeal (API routes only) blocks or unblocks the image's hash for uploads. The other functions
# reach the hashing module through the lifecycle's other transitions, never hash, and carry
# no provenance layer.
HASHING = {"chalicelib.provenance.fingerprints": {"numpy", "pdqhash"}}
HASHERS = {*PUBLISHERS, "chalicelib.events.upload_scan"}
# Chalice packages its own runtime module with the app.
BUNDLED = {"chalice"}
# Lambda's limit on a function's code and all its layers, unzipped.
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", line
            pins[canonicalize_name(requirement.name)] = spec.version
    return pins


def _layers() -> dict[str, dict[str, str]]:
    return {p.parent.name: _pins(p) for p in sorted((ROOT / "layers").glob("*/requirements.txt"))}


def _no_deps_pins() -> dict[str, str]:
    """requirements/no-deps.txt (installed without dependencies), hashes left out."""
    text = (ROOT / "requirements" / "no-deps.txt").read_text().replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        line = line.split("#")[0].split("--hash")[0].strip()
        if line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            pins[canonicalize_name(requirement.name)] = spec.version
    return pins


def test_layer_pins_are_the_versions_the_tests_run_with() -> None:
    for layer, pins in _layers().items():
        for name, version in pins.items():
            assert metadata.version(name) == version, f"{layer}: {name}"


def test_the_packages_installed_without_dependencies_are_the_versions_the_tests_run_with() -> None:
    pins = _no_deps_pins()
    assert pins == {"invisible-watermark": "0.2.0"}
    for name, version in pins.items():
        assert metadata.version(name) == version, name


def test_every_runtime_dependency_of_the_project_is_in_a_layer_at_its_pin() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deployed = {name: v for pins in _layers().values() for name, v in pins.items()}
    for line in project["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        if name in BUNDLED:
            continue
        (spec,) = requirement.specifier
        assert deployed.get(name) == spec.version, name


def _module_file(module: str) -> Path | None:
    for candidate in (
        ROOT / (module.replace(".", "/") + ".py"),
        ROOT / module.replace(".", "/") / "__init__.py",
    ):
        if candidate.exists():
            return candidate
    return None


def third_party_imports(module: str, optional: dict[str, set[str]] | None = None) -> set[str]:
    """Top-level names of every non-stdlib module the code reachable from `module` may import,
    lazy imports inside functions included (but a module's `optional` ones: OPTIONAL's)."""
    optional = OPTIONAL if optional is None else optional
    seen: set[str] = set()
    found: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        path = _module_file(current)
        if current in seen or path is None:
            continue
        seen.add(current)
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                top = name.split(".")[0]
                if top in ("chalicelib", "app"):
                    todo.append(name)
                elif top not in sys.stdlib_module_names | {"__future__"} | optional.get(
                    current, set()
                ):
                    found.add(top)
    return found


def _as_lambda(task: Path, folders: list[Path]) -> dict[str, str]:
    """The environment a function runs in: its package and its layers' folders on the path,
    nothing else installed, the stage's settings."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(task), *map(str, folders)]),
        "OBJEKTIFY_STAGE": CONTEXT["stage"],
        "AWS_REGION": REGION,
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _handler_module(handler: str) -> str:
    return handler.rsplit(".", 1)[0]


def _layer_names(synth: Synth, function: dict[str, object]) -> set[str]:
    props = function["Properties"]
    assert isinstance(props, dict)
    names = set()
    for layer in props["Layers"]:
        name = synth.resources[layer["Ref"]]["Properties"]["LayerName"]
        names.add(name.removeprefix(f"objektify-{CONTEXT['stage']}-"))
    return names


def test_every_function_has_the_layers_its_code_can_import(synth: Synth) -> None:
    providers = metadata.packages_distributions()
    layers = _layers()
    for function in synth.of_type("AWS::Serverless::Function").values():
        handler = _handler_module(function["Properties"]["Handler"])
        provided = {name for layer in _layer_names(synth, function) for name in layers[layer]}
        optional = OPTIONAL | ({} if handler in PUBLISHERS else SIGNING)
        optional = optional | ({} if handler in HASHERS else HASHING)
        for top in third_party_imports(handler, optional) - BUNDLED:
            dists = {canonicalize_name(d) for d in providers.get(top, [top])}
            assert dists & provided, f"{handler} imports {top}: in no layer of its function"


def _layer_folder(synth: Synth, layer: dict[str, Any]) -> Path:
    return synth.outdir / f"asset.{layer['Properties']['Content']['S3Key'].removesuffix('.zip')}"


def _function_layer_folders(synth: Synth, function: dict[str, Any]) -> list[Path]:
    """The function's layers' content folders, in the order Lambda mounts them."""
    return [
        _layer_folder(synth, synth.resources[r["Ref"]]) for r in function["Properties"]["Layers"]
    ]


def _app_package(synth: Synth) -> Path:
    functions = synth.of_type("AWS::Serverless::Function").values()
    (code,) = {f["Properties"]["CodeUri"]["Key"] for f in functions}
    return synth.outdir / f"asset.{code}"


# What each layer must import in Lambda's Python, native code exercised.
LAYER_CHECKS = {
    "runtime": "import cryptography.hazmat.bindings._rust, pydantic_core, botocore, jwt\n",
    "imaging": "import PIL.Image, ahocorasick\nPIL.Image.new('RGB', (8, 8)).tobytes()\n",
    "provenance": (
        "import c2pa, numpy, pdqhash, pywt\n"
        "assert c2pa.sdk_version()\n"
        "pixels = (numpy.arange(64 * 64 * 3) % 251).astype(numpy.uint8).reshape(64, 64, 3)\n"
        "bits, quality = pdqhash.compute(pixels)\n"
        "assert bits.shape == (256,) and quality > 0\n"
        "pywt.dwt2(pixels[..., 0].astype(float), 'haar')\n"
    ),
}


def test_the_deployed_package_and_layers_load_every_handler_without_site_packages(
    synth: Synth, tmp_path: Path
) -> None:
    """As Lambda would, in Python 3.12: the app's package in /var/task, then the function's own
    layers' python/ folders, and nothing else."""
    task = tmp_path / "task"
    with zipfile.ZipFile(_app_package(synth)) as package:
        package.extractall(task)
    python = lambda_python()
    functions = synth.of_type("AWS::Serverless::Function").values()
    for function in functions:
        handler = function["Properties"]["Handler"]
        folders = [folder / "python" for folder in _function_layer_folders(synth, function)]
        assert all(p.is_dir() for p in folders)
        checks = "".join(LAYER_CHECKS[name] for name in sorted(_layer_names(synth, function)))
        program = (
            "import importlib, sys\n"
            "module, name = sys.argv[1].rsplit('.', 1)\n"
            "assert callable(getattr(importlib.import_module(module), name)), sys.argv[1]\n"
            "assert not any('site-packages' in p for p in sys.path), sys.path\n"
            "assert sys.version_info[:2] == (3, 12), sys.version\n"
            f"{checks}"
            "print('loaded', sys.argv[1])\n"
        )
        env = _as_lambda(task, folders)
        result = subprocess.run(
            [python, "-S", "-c", program, handler],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, (handler, result.stderr[-4000:])
        assert result.stdout.strip() == f"loaded {handler}"


def _unzipped_size(path: Path) -> int:
    if path.is_file():
        with zipfile.ZipFile(path) as package:
            return sum(info.file_size for info in package.infolist())
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def test_every_function_with_its_layers_fits_lambdas_250_mb(synth: Synth) -> None:
    app = _unzipped_size(_app_package(synth))
    sizes = {}
    for function in synth.of_type("AWS::Serverless::Function").values():
        layers = _function_layer_folders(synth, function)
        total = app + sum(_unzipped_size(folder) for folder in layers)
        sizes[function["Properties"]["FunctionName"]] = total
        assert total < LAMBDA_UNZIPPED_LIMIT, (function["Properties"]["FunctionName"], total)
    largest = max(sizes, key=sizes.__getitem__)
    print(f"largest: {largest} {sizes[largest] / 2**20:.0f} MiB of 250 unzipped")


def test_the_extensions_built_from_source_load_on_amazon_linux_2023(synth: Synth) -> None:
    """pdqhash has no wheel: built here, it must need no glibc newer than Lambda's python3.12
    runtime has (2.34) and no libstdc++ (linked in), whatever this machine's are."""
    found = []
    for layer in synth.app_layers().values():
        for extension in (_layer_folder(synth, layer) / "python").rglob("*.so"):
            if any(canonicalize_name(part) in FROM_SOURCE for part in extension.parts):
                found.append(extension)
                assert foreign_symbols(extension) == [], extension.name
                symbols = subprocess.run(
                    ["objdump", "-T", str(extension)], capture_output=True, text=True, check=True
                ).stdout
                versions = {
                    tuple(int(n) for n in v.split("."))
                    for v in re.findall(r"\(GLIBC_([0-9.]+)\)", symbols)
                }
                assert versions and max(versions) <= GLIBC, sorted(versions)
                assert "GLIBCXX" not in symbols and "CXXABI" not in symbols
                # Repeatable bytes: no debug information naming this build's scratch folders.
                assert b"/pip-" not in extension.read_bytes()
                assert not list(extension.parents[1].glob("*.dist-info/direct_url.json"))
    assert {canonicalize_name(p.parts[-2]) for p in found} == set(FROM_SOURCE)


def test_the_source_check_refuses_what_amazon_linux_2023_lacks(tmp_path: Path) -> None:
    """The check itself can fail: a library calling a glibc 2.36 function through libstdc++."""
    source = tmp_path / "new.cpp"
    source.write_text(
        "#include <cstdlib>\n#include <string>\n"
        'extern "C" unsigned int arc4random(void);\n'
        "std::string f() { return std::to_string(arc4random()); }\n"
    )
    library = tmp_path / "new.so"
    subprocess.run(["c++", "-shared", "-fPIC", str(source), "-o", str(library)], check=True)
    foreign = foreign_symbols(library)
    assert "libstdc++.so.6" in foreign
    assert any(name.startswith(("GLIBCXX_", "CXXABI_")) for name in foreign)


def test_the_app_package_holds_the_app_and_no_dependencies(synth: Synth) -> None:
    functions = synth.of_type("AWS::Serverless::Function").values()
    (code,) = {f["Properties"]["CodeUri"]["Key"] for f in functions}
    path = synth.outdir / f"asset.{code}"
    with zipfile.ZipFile(path) as package:
        tops = {name.split("/")[0] for name in package.namelist()}
    assert tops == {"app.py", "chalice", "chalicelib"}
    assert path.stat().st_size < 1_000_000


@pytest.mark.parametrize("layer", sorted(_layers()))
def test_layer_bytecode_names_lambdas_paths(synth: Synth, layer: str) -> None:
    (found,) = [
        v for v in synth.app_layers().values() if v["Properties"]["LayerName"].endswith(f"-{layer}")
    ]
    folder = synth.outdir / f"asset.{found['Properties']['Content']['S3Key'].removesuffix('.zip')}"
    sample = next((folder / "python").rglob("*.cpython-312.pyc"))
    assert re.search(rb"/opt/python/", sample.read_bytes())


def test_the_inference_image_writes_the_watermark_with_the_versions_the_tests_run_with() -> None:
    """The container embeds the watermark the API reads: OpenCV, PyWavelets and numpy at the
    tested versions, and invisible-watermark from the hashed no-deps file, without the
    opencv-python and torch it declares."""
    folder = ROOT / "functions" / "inference"
    pins = _pins(folder / "requirements.txt")
    for name in ("opencv-python-headless", "pywavelets", "numpy"):
        assert pins[name] == metadata.version(name), name
    assert "opencv-python" not in pins and "invisible-watermark" not in pins
    dockerfile = (folder / "Dockerfile").read_text()
    assert "COPY requirements/no-deps.txt /opt/program/no-deps.txt" in dockerfile
    assert (
        "pip install --no-cache-dir --no-deps --require-hashes -r /opt/program/no-deps.txt"
        in dockerfile
    )


def test_the_check_and_the_fingerprint_run_from_the_apis_layers(
    synth: Synth, tmp_path: Path
) -> None:
    """What POST /provenance/check runs, as the API's function would run it: the PDQ fingerprint
    (pdqhash built here), the C2PA reader (c2pa-python's native library) and the watermark's
    reader, in Python 3.12 with only the app's package and the API's layers."""
    task = tmp_path / "task"
    with zipfile.ZipFile(_app_package(synth)) as package:
        package.extractall(task)
    folders = [f / "python" for f in _function_layer_folders(synth, synth.function("api_handler"))]
    program = (
        "import io, sys\n"
        "import numpy as np\n"
        "from PIL import Image\n"
        "from chalicelib.provenance import credentials, fingerprints, watermark\n"
        "rgb = np.random.default_rng(17).integers(0, 256, (320, 320, 3), dtype=np.uint8)\n"
        "image = Image.fromarray(rgb, 'RGB')\n"
        "found = fingerprints.compute(image)\n"
        "assert found.usable and len(found.hex) == 64, found\n"
        "png = io.BytesIO()\n"
        "image.save(png, 'PNG')\n"
        "assert credentials.read(png.getvalue(), 'image/png') is None\n"
        "assert watermark.read(rgb) is None\n"
        "assert not any('site-packages' in p for p in sys.path), sys.path\n"
        "print('checked', found.hex)\n"
    )
    env = _as_lambda(task, folders)
    result = subprocess.run(
        [lambda_python(), "-S", "-c", program],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.startswith("checked ")
