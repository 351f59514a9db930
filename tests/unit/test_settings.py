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


def test_the_switches_parameter_follows_the_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBJEKTIFY_STAGE", "prod")
    assert Settings.from_env().flags_parameter == "/objektify/prod/flags"


def test_keys_come_from_secrets_manager_when_settings_name_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.adapters import secrets
    from chalicelib.settings import get_settings

    monkeypatch.delenv("OBJEKTIFY_SIGNING_KEYS", raising=False)
    monkeypatch.setenv(
        "OBJEKTIFY_SIGNING_KEYS_SECRET", "arn:aws:secretsmanager:eu-west-1:1:secret:k"
    )
    get_settings.cache_clear()
    monkeypatch.setattr(secrets, "_secret", lambda secret_id: " new-key , old-key ")
    try:
        assert secrets.signing_keys() == ("new-key", "old-key")
    finally:
        get_settings.cache_clear()
