"""`objektify credentials …`: the certificate chain that signs the content credentials.

The signing key is an asymmetric KMS key (ECC_NIST_P256); only its public key ever leaves KMS.
A certificate for that public key, followed by the certificates up to a root, is the chain a
C2PA reader checks; it lives in an SSM parameter (PEM, signing certificate first).

A development chain is issued here by a development root kept on disk (`.local/` for the local
stack, created on first use and then reused). For production an operator replaces it with a
chain from a CA on the C2PA trust list (`set-chain`); see docs/provenance.md.

C2PA's certificate profile (c2pa-rs checks it at signing and at reading): X.509 v3, not
self-signed, key usage `digitalSignature` (critical), an extended key usage C2PA accepts
(here id-kp-emailProtection and id-kp-documentSigning, never anyExtendedKeyUsage), subject and
authority key identifiers, and a CA root that is `cA: true` with `keyCertSign`.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

ROOT_KEY = "credentials-root.key"
ROOT_CERTIFICATE = "credentials-root.pem"
ORGANIZATION = "Objektify"
ROOT_DAYS = 3650
SIGNING_DAYS = 365
RENEW_DAYS = 30  # a development signing certificate this close to its end is issued again
DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"  # id-kp-documentSigning (RFC 9336)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def development_root(directory: Path) -> tuple[EllipticCurvePrivateKey, x509.Certificate]:
    """The development root CA under `directory`: created on first use, reused after."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key_path, cert_path = directory / ROOT_KEY, directory / ROOT_CERTIFICATE
    if key_path.exists() and cert_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key, x509.load_pem_x509_certificate(cert_path.read_bytes())
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{ORGANIZATION} Development Root CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        ]
    )
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=ROOT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signing=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key, certificate


def _key_usage(signing: bool) -> x509.KeyUsage:
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )


def issue_signing_certificate(
    root_key: EllipticCurvePrivateKey,
    root: x509.Certificate,
    public_key_der: bytes,
    days: int = SIGNING_DAYS,
) -> x509.Certificate:
    """A C2PA signing certificate for `public_key_der` (the KMS key's), issued by `root`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

    public_key = serialization.load_der_public_key(public_key_der)
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, f"{ORGANIZATION} Content Credentials"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                ]
            )
        )
        .issuer_name(root.subject)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(min(now + datetime.timedelta(days=days), root.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signing=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.EMAIL_PROTECTION, ObjectIdentifier(DOCUMENT_SIGNING)]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )


def chain_pem(*certificates: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import serialization

    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


def load_chain(pem: str) -> list[x509.Certificate]:
    from cryptography import x509

    return x509.load_pem_x509_certificates(pem.encode())


def chain_problem(pem: str, public_key_der: bytes) -> str | None:
    """Why `pem` cannot sign for the key whose public key is `public_key_der`, or None."""
    from cryptography.hazmat.primitives import serialization

    try:
        chain = load_chain(pem)
    except ValueError as exc:
        return f"not a PEM certificate chain: {exc}"
    if not chain:
        return "no certificate"
    first = (
        chain[0]
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    if first != public_key_der:
        return "the first certificate is not for the signing key"
    for child, parent in itertools.pairwise(chain):
        if child.issuer != parent.subject:
            return f"{child.subject.rfc4514_string()} is not issued by the next certificate"
    if chain[0].not_valid_after_utc < _now() + datetime.timedelta(days=RENEW_DAYS):
        return "the signing certificate ends within 30 days"
    return None


def ensure_development_chain(
    kms: Any, ssm: Any, key_id: str, parameter: str, directory: Path
) -> str:
    """The chain in `parameter`, kept when it still signs for the KMS key under the development
    root in `directory`; otherwise a new signing certificate issued by that root, stored."""
    from botocore.exceptions import ClientError

    root_key, root = development_root(directory)
    public_key = bytes(kms.get_public_key(KeyId=key_id)["PublicKey"])
    try:
        current = str(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "ParameterNotFound":
            raise
        current = ""
    if current and chain_problem(current, public_key) is None and load_chain(current)[-1] == root:
        return current
    chain = chain_pem(issue_signing_certificate(root_key, root, public_key), root)
    ssm.put_parameter(Name=parameter, Value=chain, Type="String", Overwrite=True)
    return chain


def describe(pem: str) -> list[str]:
    """One line per certificate: subject, issuer, end of validity, usages."""
    from cryptography import x509

    lines = []
    for number, certificate in enumerate(load_chain(pem)):
        usages = []
        try:
            eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            usages = [oid.dotted_string for oid in eku]
        except x509.ExtensionNotFound:
            pass
        lines.append(
            f"{number}: {certificate.subject.rfc4514_string()}\n"
            f"   issued by {certificate.issuer.rfc4514_string()}, "
            f"valid until {certificate.not_valid_after_utc:%Y-%m-%d}"
            + (f", extended key usage {', '.join(usages)}" if usages else "")
        )
    return lines


def _clients() -> tuple[Any, Any, str, str]:
    from chalicelib.adapters.aws import client
    from chalicelib.settings import get_settings

    settings = get_settings()
    return (
        client("kms"),
        client("ssm"),
        settings.credentials_key_id,
        settings.credentials_chain_parameter,
    )


def _dev_chain(args: argparse.Namespace) -> int:
    from local.config import local_dir
    from objektify.local_stack import use_local_stack_if_running

    where = use_local_stack_if_running()
    kms, ssm, key_id, parameter = _clients()
    directory = Path(args.root_dir) if args.root_dir else local_dir()
    chain = ensure_development_chain(kms, ssm, key_id, parameter, directory)
    print(f"development chain for {key_id} in {parameter} ({where}):")
    print("\n".join(describe(chain)))
    print(f"readers trust it with the root {directory / ROOT_CERTIFICATE}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from objektify.local_stack import use_local_stack_if_running

    where = use_local_stack_if_running()
    kms, ssm, key_id, parameter = _clients()
    chain = str(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
    public_key = bytes(kms.get_public_key(KeyId=key_id)["PublicKey"])
    print(f"{parameter} ({where}), signing key {key_id}:")
    print("\n".join(describe(chain)))
    problem = chain_problem(chain, public_key)
    print(f"problem: {problem}" if problem else "the chain signs for the key")
    return 1 if problem else 0


def _public_key(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization

    from objektify.local_stack import use_local_stack_if_running

    use_local_stack_if_running()
    kms, _, key_id, _ = _clients()
    der = bytes(kms.get_public_key(KeyId=key_id)["PublicKey"])
    key = serialization.load_der_public_key(der)
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    print(pem.decode(), end="")
    return 0


def _set_chain(args: argparse.Namespace) -> int:
    from objektify.local_stack import use_local_stack_if_running

    where = use_local_stack_if_running()
    kms, ssm, key_id, parameter = _clients()
    chain = Path(args.file).read_text(encoding="utf-8")
    problem = chain_problem(chain, bytes(kms.get_public_key(KeyId=key_id)["PublicKey"]))
    if problem:
        print(f"refused: {problem}")
        return 1
    ssm.put_parameter(Name=parameter, Value=chain, Type="String", Overwrite=True)
    print(f"{parameter} ({where}) now holds:")
    print("\n".join(describe(chain)))
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `credentials` command group."""
    group = commands.add_parser("credentials", help="the C2PA signing certificate chain")
    sub = group.add_subparsers(dest="credentials_command", required=True)

    dev = sub.add_parser(
        "dev-chain",
        help="issue a development chain for the signing KMS key and store it in the parameter",
    )
    dev.add_argument(
        "--root-dir",
        help="where the development root CA is kept (default: the local stack's folder)",
    )
    dev.set_defaults(run=_dev_chain)

    show = sub.add_parser("show", help="print the stored chain and check it against the key")
    show.set_defaults(run=_show)

    public = sub.add_parser(
        "public-key", help="print the signing KMS key's public key (PEM), for a CA to certify"
    )
    public.set_defaults(run=_public_key)

    put = sub.add_parser(
        "set-chain", help="store a chain from a CA (PEM, signing certificate first)"
    )
    put.add_argument("file", help="the PEM file")
    put.set_defaults(run=_set_chain)
