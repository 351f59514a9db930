"""Run-time configuration: the service switches' parameter and the secret keys."""

from __future__ import annotations

import json

from tests.infra.support import Synth, stage_settings


def test_the_switches_start_enabled_in_a_powertools_feature_flags_document(synth: Synth) -> None:
    _, parameter = synth.named("AWS::SSM::Parameter", "Name", stage_settings().flags_parameter)
    flags = json.loads(parameter["Properties"]["Value"])
    on = {"boolean_type": False, "default": {"enabled": True, "message": ""}}
    assert flags == {"generation": on, "gallery": on, "reports": on}


def test_keys_are_generated_kept_and_never_in_the_template(synth: Synth) -> None:
    secrets = synth.of_type("AWS::SecretsManager::Secret")
    keys = {s["Properties"]["Name"]: s for s in secrets.values() if "Name" in s["Properties"]}
    assert set(keys) == {"objektify/ci/signing-keys", "objektify/ci/address-hash-key"}
    for secret in keys.values():
        assert secret["DeletionPolicy"] == "Retain"
        generated = secret["Properties"]["GenerateSecretString"]
        assert generated["PasswordLength"] >= 64
        assert generated["ExcludePunctuation"] is True  # the comma separates signing keys
    # Besides the keys, only the mark of requests sent by the site's CDN (infra/firewall.py).
    assert len(secrets) == len(keys) + 1
    for secret in secrets.values():
        assert "GenerateSecretString" in secret["Properties"]
        assert "SecretString" not in secret["Properties"]
