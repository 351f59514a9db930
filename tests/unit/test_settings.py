from __future__ import annotations

import pytest

from chalicelib.settings import Settings


def test_table_names_follow_the_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBJEKTIFY_STAGE", "prod")
    settings = Settings.from_env()
    assert settings.users_table == "objektify-prod-users"
    assert settings.consent_evidence_table == "objektify-prod-consent-evidence"


def test_values_are_typed_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBJEKTIFY_TERMS_CACHE_SECONDS", "9")
    monkeypatch.setenv("OBJEKTIFY_COGNITO_CLIENT_IDS", "a, b,,c")
    monkeypatch.setenv("OBJEKTIFY_USERS_TABLE", "custom")
    settings = Settings.from_env()
    assert settings.terms_cache_seconds == 9
    assert settings.cognito_client_ids == ("a", "b", "c")
    assert settings.users_table == "custom"


def test_secret_settings_are_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBJEKTIFY_ADDRESS_HASH_KEY", "very-secret")
    assert "very-secret" not in repr(Settings.from_env())


def test_feature_flags_parameter_follows_the_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBJEKTIFY_STAGE", "prod")
    assert Settings.from_env().feature_flags_parameter == "/objektify/prod/feature-flags"
