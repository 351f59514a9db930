"""What each Lambda function loads at its cold start, checked against a deny-list (not timed:
bench/coldstart.py prints the times).

A function's Lambda imports its handler's module and nothing more: `app` for the API, and for
each event handler the blueprint module Chalice names it by (`chalicelib.events.scan`), so
those never load app.py or the web routes. Each module is imported by a fresh interpreter,
which then lists its `sys.modules`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app import app

ROOT = Path(__file__).resolve().parents[2]

# Loaded by the code that needs them, never at import: Pillow (the scan), PyJWT and
# cryptography (verifying a token), pydantic (parsing a body), AWS clients (created lazily),
# Powertools' heavier utilities and X-Ray, the offline scanner's libraries.
EVERY_FUNCTION = (
    "PIL",
    "jwt",
    "cryptography",
    "pydantic",
    "pydantic_core",
    "boto3",
    "aws_xray_sdk",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.feature_flags",
    "aws_lambda_powertools.utilities.parameters",
    "aws_lambda_powertools.utilities.parser",
    "numpy",
    "nudenet",
)
# An event handler serves no HTTP: neither the routes nor app.py.
EVENT_HANDLER = (*EVERY_FUNCTION, "app", "chalicelib.api")
# The API registers every route; each route loads its services when it is first called.
API = (*EVERY_FUNCTION, "chalicelib.services.moderation", "chalicelib.services.transparency")


def handlers() -> dict[str, str]:
    """Function name → the handler its Lambda is configured with."""
    found = {"api_handler": "app.app"}
    for source in (*app.event_sources, *app.pure_lambda_functions):
        found[source.name] = source.handler_string
    return found


def loaded_by(module: str) -> set[str]:
    program = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def offending(loaded: set[str], denied: tuple[str, ...]) -> list[str]:
    return sorted(
        name for name in denied if any(m == name or m.startswith(name + ".") for m in loaded)
    )


def test_the_deny_list_matches_whole_module_names() -> None:
    assert offending({"PIL.Image", "jwtx", "app"}, ("PIL", "jwt", "app")) == ["PIL", "app"]


def test_every_event_handler_is_named_by_its_own_module_not_by_app() -> None:
    for name, handler in handlers().items():
        if name != "api_handler":
            assert handler.startswith("chalicelib.events."), (name, handler)


@pytest.mark.parametrize("module", sorted({h.rsplit(".", 1)[0] for h in handlers().values()}))
def test_a_function_loads_nothing_on_its_deny_list_at_import(module: str) -> None:
    denied = API if module == "app" else EVENT_HANDLER
    assert offending(loaded_by(module), denied) == []
