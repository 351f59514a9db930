"""Cold start of every Lambda function, as Lambda loads it; prints figures, asserts nothing.

Each function's Lambda imports its handler's module and nothing else: `app` for the API
(`app.app`), and for an event handler the module of its blueprint
(`chalicelib.events.scan.on_output_created`: Chalice names a blueprint's handler by the module
that defines it, so these functions never load app.py). The functions are read from the app
itself, so a handler added in app.py is measured without changing this file.

The simulation: the app's package is copied, as Chalice zips it (app.py, chalicelib/ and
Chalice's own runtime module, source only), into a scratch folder that stands for /var/task;
Lambda's /var/task is read-only, so the app's modules are compiled at every cold start, and
here too (no bytecode is written). The libraries come from the built layers
(`build/layers/*/python`, compiled at build time as deployed, loaded with `python -S` as in
test_layers) when they are current, else from this virtualenv's site-packages (said so).

For each function: the median over fresh interpreters of importing the handler, against bare
`import boto3` in the same run (runs interleaved, so drift on a shared machine hits both
alike); the same with what its handler imports when first called (the modules are read from
its source: handlers and routes import their services when called, so the import alone is not
the whole cold start; for the API this is every route's, the most a function ever loads); and
the size of its package plus layers, with the installed size of the third-party packages its
import loads.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 15
API = "api_handler"
DEFAULT_LAYERS = ("runtime", "imaging")
GOALS = {API: 1.2}  # every other function: EVENT_GOAL
EVENT_GOAL = 1.1
MB = 1024 * 1024


@dataclass(frozen=True)
class Function:
    name: str
    handler: str  # module.attribute, as in the function's Lambda configuration
    first_event: tuple[str, ...]  # modules its handler imports when first called
    layers: tuple[str, ...]

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]


def _lazy_imports(module: str, function: str) -> tuple[str, ...]:
    """Modules imported inside `function` of `module` or the functions it calls by name (of its
    own module, or imported from chalicelib): what the handler loads when first called."""
    found: list[str] = []
    todo, seen = [(module, function)], set()
    while todo:
        where, name = todo.pop()
        if (where, name) in seen:
            continue
        seen.add((where, name))
        path = ROOT / (where.replace(".", "/") + ".py")
        if not path.exists():  # a package: what it names are its modules
            continue
        tree = ast.parse(path.read_text())
        defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        origins = {
            alias.asname or alias.name: node.module
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chalicelib")
            for alias in node.names
        }
        for node in ast.walk(defs[name]) if name in defs else ():
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
                found += [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [alias.name for alias in node.names]
            elif isinstance(node, ast.Name) and node.id in defs:
                todo.append((where, node.id))
            elif isinstance(node, ast.Name) and node.id in origins:
                todo.append((origins[node.id], node.id))
    return tuple(m for m in dict.fromkeys(found) if _is_module(m))


def _every_route_imports() -> tuple[str, ...]:
    """chalicelib modules the API's routes and middleware import when called: all of them."""
    found: list[str] = []
    for source in sorted((ROOT / "chalicelib" / "api").glob("*.py")):
        tree = ast.parse(source.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                found += _lazy_imports(f"chalicelib.api.{source.stem}", node.name)
    return tuple(dict.fromkeys(found))


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a name inside a module, not a module
        return False


def _layers_of() -> dict[str, tuple[str, ...]]:
    """Each function's layers, read from infra/functions.py without importing the CDK."""
    tree = ast.parse((ROOT / "infra" / "functions.py").read_text())
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "FunctionSpec":
            first = node.args[0]
            name = first.value if isinstance(first, ast.Constant) else API
            for keyword in node.keywords:
                if keyword.arg == "layers":
                    found[str(name)] = tuple(ast.literal_eval(keyword.value))
    return found


def functions() -> list[Function]:
    from app import app

    layers = _layers_of()
    found = [Function(API, "app.app", _every_route_imports(), layers.get(API, DEFAULT_LAYERS))]
    handlers = [*app.event_sources, *app.pure_lambda_functions]
    for source in sorted(handlers, key=lambda s: s.name):
        module, attribute = source.handler_string.rsplit(".", 1)
        found.append(
            Function(
                source.name,
                source.handler_string,
                _lazy_imports(module, attribute),
                layers.get(source.name, DEFAULT_LAYERS),
            )
        )
    return found


def package(task: Path) -> bytes:
    """The app's package as Chalice builds it (source only), written out to `task`."""
    import chalice
    import chalice.app

    files = {
        "chalice/__init__.py": Path(chalice.__file__),
        "chalice/app.py": Path(chalice.app.__file__),
        "app.py": ROOT / "app.py",
    }
    for path in sorted((ROOT / "chalicelib").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[str(path.relative_to(ROOT))] = path
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, source in files.items():
            (task / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, task / name)
            archive.write(source, name)
    return out.getvalue()


def built_layers() -> dict[str, Path] | None:
    """The layers' python/ folders, if every layer is built and current."""
    from layers import build

    folders = {}
    for name in build.layer_names():
        folder = build.DEFAULT_OUT / name
        stamp = build.DEFAULT_OUT / f"{name}.sha256"
        if not stamp.exists() or stamp.read_text() != build._fingerprint(name):
            return None
        folders[name] = folder / "python"
    return folders


def folder_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Loader:
    """Fresh interpreters that load code as a function's Lambda would."""

    def __init__(self, task: Path, layers: dict[str, Path] | None) -> None:
        self.task = task
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        self.flags: list[str] = []
        if layers is not None:
            self.paths = [task, *layers.values()]
            self.flags = ["-S"]  # no site-packages: the layers alone, as in Lambda
        else:
            self.paths = [task, Path(sysconfig.get_paths()["purelib"])]
        self.env["PYTHONPATH"] = os.pathsep.join(map(str, self.paths))

    def run(self, code: str) -> str:
        done = subprocess.run(
            [sys.executable, *self.flags, "-c", code],
            cwd=self.task,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def seconds(self, code: str) -> float:
        started = time.perf_counter()
        self.run(code)
        return time.perf_counter() - started

    def third_party(self, code: str) -> list[str]:
        """Top-level names of the non-stdlib packages loaded by `code`."""
        probe = (
            f"{code}\nimport json, sys\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules}"
            " - set(sys.stdlib_module_names)"
            " - {'app', 'chalicelib', 'chalice', '__main__', '_distutils_hack'})))"
        )
        return list(json.loads(self.run(probe).splitlines()[-1]))

    def installed_bytes(self, top: str) -> int:
        for folder in self.paths[1:]:
            for candidate in (folder / top, folder / f"{top}.py", *folder.glob(f"{top}.*.so")):
                if candidate.exists():
                    return folder_bytes(candidate)
        return 0


def import_code(module: str, extra: tuple[str, ...] = ()) -> str:
    return "import importlib\n" + "".join(
        f"importlib.import_module({m!r})\n" for m in (module, *extra)
    )


def main() -> None:
    found = functions()
    with tempfile.TemporaryDirectory() as scratch:
        task = Path(scratch)
        zipped = len(package(task))
        layers = built_layers()
        loader = Loader(task, layers)
        codes = {"boto3": "import boto3"}
        for f in found:
            codes[f.name] = import_code(f.module)
            if f.first_event:
                codes[f"{f.name}+"] = import_code(f.module, f.first_event)
        for code in codes.values():  # warm the file cache first
            loader.run(code)
        samples: dict[str, list[float]] = {key: [] for key in codes}
        for _ in range(RUNS):
            for key, code in codes.items():
                samples[key].append(loader.seconds(code))
        median = {key: statistics.median(values) * 1000 for key, values in samples.items()}
        loaded = {f.name: loader.third_party(codes[f.name]) for f in found}

        if layers is not None:
            layer_bytes = {name: folder_bytes(path) for name, path in layers.items()}
            where = "built layers (build/layers), python -S"
        else:
            from importlib import metadata

            layer_bytes = {}
            for name in DEFAULT_LAYERS:
                total = 0
                for line in (ROOT / "layers" / name / "requirements.txt").read_text().splitlines():
                    line = line.split("#")[0].strip()
                    if line:
                        dist = metadata.distribution(line.split("==")[0])
                        total += sum((f.size or 0) for f in dist.files or [])
                layer_bytes[name] = total
            where = "this virtualenv's site-packages (layers not built: installed sizes)"
        package_bytes = folder_bytes(task)

    boto3_ms = median["boto3"]
    print(f"cold start per function: median of {RUNS} fresh interpreters, libraries from {where}")
    print(f"app package: {package_bytes / 1024:.0f} KB unzipped, {zipped / 1024:.0f} KB zipped")
    print(f"{'import boto3':32s} {boto3_ms:7.1f} ms")
    header = f"{'function':24s} {'import':>9s} {'ratio':>6s} {'goal':>5s}  {'+handler':>10s}"
    print(header + f" {'pkg+layers':>10s} {'imported':>9s}  handler")
    for f in found:
        ms = median[f.name]
        first = median.get(f"{f.name}+")
        first_text = f"{first / boto3_ms:9.2f}x" if first else f"{'-':>10s}"
        size = package_bytes + sum(layer_bytes[layer] for layer in f.layers)
        imported = sum(loader.installed_bytes(top) for top in loaded[f.name])
        goal = GOALS.get(f.name, EVENT_GOAL)
        print(
            f"{f.name:24s} {ms:6.1f} ms {ms / boto3_ms:5.2f}x {goal:4.1f}x  {first_text}"
            f" {size / MB:7.1f} MB {imported / MB:6.1f} MB  {f.handler}"
        )
    print("ratio: import time / import boto3; +handler: with what the handler imports when")
    print("first called (API: every route's); pkg+layers: unzipped package and its layers")
    print("(Lambda's limit: 250 MB);")
    print("imported: installed size of the third-party packages the import loads")
    for f in found:
        print(f"  {f.name}: {', '.join(loaded[f.name]) or '-'}")


if __name__ == "__main__":
    main()
