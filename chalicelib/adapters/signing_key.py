"""The key that signs content credentials: an asymmetric AWS KMS key (ECC_NIST_P256) whose
private half never leaves KMS, and its certificate chain, kept in an SSM parameter.

KMS answers `Sign` with a DER-encoded ECDSA signature (an ASN.1 SEQUENCE of r and s); COSE's
ES256, which C2PA signs with, wants the two integers as fixed-width big-endian bytes, r || s.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.settings import get_settings

ALGORITHM = "ECDSA_SHA_256"
KEY_SPEC = "ECC_NIST_P256"
COORDINATE_BYTES = 32  # P-256
# KMS signs a RAW message of at most this many bytes (it hashes it itself); a C2PA claim's
# to-be-signed bytes are ~1.5 KB. Larger ones are hashed here and sent as a DIGEST.
RAW_MESSAGE_LIMIT = 4096
CHAIN_CACHE_SECONDS = 300


def der_to_raw(signature: bytes, size: int = COORDINATE_BYTES) -> bytes:
    """A DER ECDSA signature as COSE wants it: r and s, each `size` bytes, big-endian."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(signature)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def sign(message: bytes) -> bytes:
    """ES256 over `message` by the KMS key that settings name, as raw r || s."""
    from chalicelib.adapters.aws import client

    request: dict[str, Any] = {
        "KeyId": get_settings().credentials_key_id,
        "SigningAlgorithm": ALGORITHM,
    }
    if len(message) <= RAW_MESSAGE_LIMIT:
        request.update(Message=message, MessageType="RAW")
    else:
        import hashlib

        request.update(Message=hashlib.sha256(message).digest(), MessageType="DIGEST")
    answer = client("kms").sign(**request)
    return der_to_raw(answer["Signature"])


def public_key(key_id: str | None = None) -> bytes:
    """The KMS key's public key (DER SubjectPublicKeyInfo), for a certificate to bind."""
    from chalicelib.adapters.aws import client

    answer = client("kms").get_public_key(KeyId=key_id or get_settings().credentials_key_id)
    return bytes(answer["PublicKey"])


@lru_cache(maxsize=1)
def _provider(ssm: Any) -> Any:
    """Powertools' SSM provider (and its cache) for this SSM client: a new client, one for
    another endpoint, gets a provider of its own."""
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=ssm)


def certificate_chain() -> str:
    """The PEM chain of the signing key (signing certificate first), read from SSM once and
    kept for a few minutes, so that an operator's new chain reaches every function soon."""
    from chalicelib.adapters.aws import client

    name = get_settings().credentials_chain_parameter
    return str(_provider(client("ssm")).get(name, max_age=CHAIN_CACHE_SECONDS)).strip() + "\n"
