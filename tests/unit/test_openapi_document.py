"""The OpenAPI document and the app's route table cannot drift apart."""

from __future__ import annotations

from pathlib import Path

import yaml

from app import app

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def documented() -> set[tuple[str, str]]:
    spec = yaml.safe_load(DOCUMENT.read_text())
    return {
        (path, method.upper())
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "delete", "patch"}
    }


def registered() -> set[tuple[str, str]]:
    return {(path, method) for path, entries in app.routes.items() for method in entries}


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    assert registered() - documented() == set(), "routes missing from docs/openapi.yaml"
    assert documented() - registered() == set(), "documented routes the app does not serve"


def test_every_operation_documents_its_error_body() -> None:
    spec = yaml.safe_load(DOCUMENT.read_text())
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if operation.get("security"):
                assert "401" in operation["responses"], f"{method} {path} lacks its 401"
