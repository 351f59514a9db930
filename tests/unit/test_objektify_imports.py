"""The `objektify` command's modules import each other one way: the CLI (objektify/cli.py)
assembles the commands, and no command module reaches back into it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "objektify"
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "cli.py")


def imported(path: Path) -> set[str]:
    """Every module an import statement names, anywhere in the file (functions too);
    `from a import b` names both `a` and `a.b`, since `b` may be a module."""
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_objektify_module_imports_the_cli(path: Path) -> None:
    assert "objektify.cli" not in imported(path)
