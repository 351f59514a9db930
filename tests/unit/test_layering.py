"""Which layer may import which, read from the source without importing it.

- infra/ declares what the app and the local stack read from neutral modules of chalicelib
  (resources, roles, switches, web_front): it imports no service and nothing of local/.
- chalicelib/api/ speaks HTTP and calls services: it reaches no adapter, and no AWS library.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(text: str, package: tuple[str, ...]) -> set[str]:
    """Every module an import statement of a module of `package` names, anywhere in it
    (functions too): `from a.b import c` names both `a.b` and `a.b.c`, since `c` may be a
    module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the module's package
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def reaches(name: str, forbidden: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in forbidden)


def offences(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for source in sorted((ROOT / folder).glob("*.py")):
        names = imported_modules(source.read_text(encoding="utf-8"), tuple(folder.split("/")))
        bad = sorted(name for name in names if reaches(name, forbidden))
        if bad:
            found[source.relative_to(ROOT).as_posix()] = bad
    return found


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("local", True),
        ("local.web", True),
        ("localisation", False),
        ("chalicelib.services.flags", True),
        ("chalicelib.servicesx", False),
        ("chalicelib.resources", False),
    ],
)
def test_a_forbidden_prefix_matches_whole_module_names(name: str, expected: bool) -> None:
    assert reaches(name, ("local", "chalicelib.services")) is expected


def test_the_import_reader_sees_every_form() -> None:
    text = (
        "import local.web\n"
        "from chalicelib import services\n"
        "def f():\n"
        "    from .headers import TYPED\n"
        "    from ..adapters import aws\n"
    )
    names = imported_modules(text, ("chalicelib", "api"))
    assert {"local.web", "chalicelib.services", "chalicelib.api.headers.TYPED"} <= names
    assert "chalicelib.adapters.aws" in names


def test_infra_imports_no_service_and_nothing_of_the_local_stack() -> None:
    assert offences("infra", ("local", "chalicelib.services")) == {}


def test_the_api_layer_reaches_no_adapter_and_no_aws_library() -> None:
    forbidden = ("chalicelib.adapters", "boto3", "botocore", "pynamodb")
    assert offences("chalicelib/api", forbidden) == {}
