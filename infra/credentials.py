"""Content credentials: the key that signs every published file's C2PA manifest, and its chain.

- The key is an asymmetric KMS key (ECC NIST P-256, sign and verify): C2PA's ES256. Its private
  half never leaves KMS; the functions that publish ask KMS to sign each manifest's claim
  (kms:Sign) through c2pa's callback signer. Retained when the stack goes: files signed with it
  stay verifiable against its certificate only while the certificate is published, but a key
  once deleted can never sign under that certificate again. KMS cannot rotate an asymmetric key
  by itself; an operator rotates it by creating a new key and a new certificate.
- The certificate chain (PEM, signing certificate first, then any intermediates and the root)
  is an SSM parameter the same functions read. It starts as a placeholder, which publishing
  refuses to sign with (a publish then fails and is retried, never published unsigned), until
  an operator stores a chain: `objektify credentials dev-chain` (a development root of its own)
  or `objektify credentials set-chain FILE` with a chain from a CA on the C2PA trust list, for
  the key's public half (`objektify credentials public-key`). docs/provenance.md has the steps.
  CloudFormation writes the placeholder only when it creates the parameter: an operator's chain
  survives every later deployment.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from chalicelib.settings import Settings

ALIAS_PREFIX = "alias/"
PLACEHOLDER = (
    "NOT A CERTIFICATE CHAIN: store one with `objektify credentials dev-chain` (development) "
    "or `objektify credentials set-chain FILE` (a CA's chain, signing certificate first)"
)


class ContentCredentials(Construct):
    def __init__(self, scope: Construct, id: str, settings: Settings) -> None:
        super().__init__(scope, id)
        self.key = kms.Key(
            self,
            "SigningKey",
            description=f"Objektify ({settings.stage}): signs the C2PA manifests (ES256)",
            key_spec=kms.KeySpec.ECC_NIST_P256,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            alias=settings.credentials_key_id.removeprefix(ALIAS_PREFIX),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.chain = ssm.StringParameter(
            self,
            "CertificateChain",
            parameter_name=settings.credentials_chain_parameter,
            description="Objektify C2PA certificate chain (PEM, signing certificate first)",
            string_value=PLACEHOLDER,
            # A CA's chain with intermediates outgrows the standard tier's 4 KB.
            tier=ssm.ParameterTier.ADVANCED,
        )

    def settings(self) -> dict[str, str]:
        return {
            "credentials_key_id": self.key.key_arn,
            "credentials_chain_parameter": self.chain.parameter_name,
        }
