"""The Lambda layers: pinned to what the tests run with, complete for every function's code, and
the deployed artifacts (the app's package and the layers) import every handler on their own."""

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

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.infra.support import CONTEXT, REGION, ROOT, Synth

# Imported only when a setting chooses them, and never in AWS: the optional NudeNet scanner.
OPTIONAL = {"nudenet", "numpy"}
# Chalice packages its own runtime module with the app.
BUNDLED = {"chalice"}


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


def test_layer_pins_are_the_versions_the_tests_run_with() -> None:
    for layer, pins in _layers().items():
        for name, version in pins.items():
            assert metadata.version(name) == version, f"{layer}: {name}"


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


def third_party_imports(module: str) -> set[str]:
    """Top-level names of every non-stdlib module the code reachable from `module` may import,
    lazy imports inside functions included."""
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
                elif top not in sys.stdlib_module_names and top != "__future__":
                    found.add(top)
    return found


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
        for top in third_party_imports(handler) - OPTIONAL - BUNDLED:
            dists = {canonicalize_name(d) for d in providers.get(top, [top])}
            assert dists & provided, f"{handler} imports {top}: in no layer of its function"


def test_the_deployed_package_and_layers_load_every_handler_without_site_packages(
    synth: Synth, tmp_path: Path
) -> None:
    """As Lambda would: the app's package in /var/task, the layers' python/ folders after it."""
    functions = synth.of_type("AWS::Serverless::Function").values()
    (code,) = {f["Properties"]["CodeUri"]["Key"] for f in functions}
    task = tmp_path / "task"
    with zipfile.ZipFile(synth.outdir / f"asset.{code}") as package:
        package.extractall(task)
    layer_paths = [
        synth.outdir
        / f"asset.{layer['Properties']['Content']['S3Key'].removesuffix('.zip')}"
        / "python"
        for layer in synth.app_layers().values()
    ]
    assert all(p.is_dir() for p in layer_paths)
    handlers = sorted({f["Properties"]["Handler"] for f in functions})
    program = (
        "import importlib, sys\n"
        "for handler in sys.argv[1:]:\n"
        "    module, name = handler.rsplit('.', 1)\n"
        "    assert callable(getattr(importlib.import_module(module), name)), handler\n"
        "assert not any('site-packages' in p for p in sys.path), sys.path\n"
        "import PIL, ahocorasick, cryptography, pydantic_core, botocore\n"
        "print('loaded', len(sys.argv) - 1)\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(task), *map(str, layer_paths)]),
        "OBJEKTIFY_STAGE": CONTEXT["stage"],
        "AWS_REGION": REGION,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", program, *handlers],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip() == f"loaded {len(handlers)}"


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
    sample = next((folder / "python").rglob("*.cpython-311.pyc"))
    assert re.search(rb"/opt/python/", sample.read_bytes())
