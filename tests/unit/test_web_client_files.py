"""The web client's files: plain ES modules that resolve, no HTML built from strings, nothing
fetched from another site."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
MODULES = sorted((WEB / "app").rglob("*.js"))
IMPORT = re.compile(r"""(?:import|from)\s*["'](\.{1,2}/[^"']+)["']""")


def test_there_is_a_page_and_modules() -> None:
    assert (WEB / "index.html").is_file()
    assert len(MODULES) >= 10


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(WEB)))
def test_every_import_resolves_to_a_file(module: Path) -> None:
    for target in IMPORT.findall(module.read_text()):
        assert (module.parent / target).resolve().is_file(), f"{module.name} imports {target}"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(WEB)))
def test_markup_is_never_built_from_strings(module: Path) -> None:
    source = module.read_text()
    for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert risky not in source, f"{module.name} uses {risky}"


def test_nothing_is_loaded_from_another_site() -> None:
    for path in [WEB / "index.html", *WEB.rglob("*.css"), *MODULES]:
        text = path.read_text()
        assert not re.search(r"""(?:src|href)\s*=\s*["']https?://""", text), path.name
        assert "@import" not in text and "url(http" not in text, path.name
