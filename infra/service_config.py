"""Configuration the app reads at run time: the service switches and the secret keys.

- Service switches: one SSM parameter (`settings.flags_parameter`) holding a Powertools
  feature-flags document; every switch starts enabled. CloudFormation writes the document only
  when the stack creates it or this initial document changes: switches that operators flip later
  are theirs.
- Keys: Secrets Manager secrets generated at creation and never in the template or the
  functions' environment; the functions get their ids and may read them.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from chalicelib.settings import Settings
from chalicelib.switches import default_document
from infra.nag import acknowledge


def initial_flags() -> dict[str, Any]:
    """The app's own document: every switch on, with an empty operator's message."""
    return default_document()


class ServiceConfig(Construct):
    def __init__(self, scope: Construct, id: str, settings: Settings) -> None:
        super().__init__(scope, id)
        self.flags = ssm.StringParameter(
            self,
            "FeatureFlags",
            parameter_name=settings.flags_parameter,
            description="Objektify service switches (Powertools feature flags)",
            string_value=json.dumps(initial_flags(), sort_keys=True),
            tier=ssm.ParameterTier.STANDARD,
        )
        self.signing_keys = self._secret(
            "SigningKeys",
            f"objektify/{settings.stage}/signing-keys",
            # A list: the first key signs, all verify. Rotate by putting a new key first.
            "HMAC keys for page cursors and review links, comma-separated, newest first",
        )
        self.address_hash_key = self._secret(
            "AddressHashKey",
            f"objektify/{settings.stage}/address-hash-key",
            "HMAC key for the hashes of network addresses kept as consent evidence",
        )

    def _secret(self, id: str, name: str, description: str) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            id,
            secret_name=name,
            description=description,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64,
                exclude_punctuation=True,  # keeps the comma free as the list separator
                include_space=False,
            ),
            # A lost key makes every stored hash and outstanding link unverifiable.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            secret,
            "SMG4",
            "An application key, not a credential: automatic replacement would break every "
            "cursor and link in flight and every stored address hash. Signing keys are rotated "
            "by putting a new key first (all listed keys verify).",
        )
        return secret

    def settings(self) -> dict[str, str]:
        return {
            "flags_parameter": self.flags.parameter_name,
            "signing_keys_secret": self.signing_keys.secret_arn,
            "address_hash_key_secret": self.address_hash_key.secret_arn,
        }
