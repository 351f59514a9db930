"""Signed C2PA content credentials: made and read with c2pa-python, with a chain issued here by
the same code that issues the development chain (objektify/credentials.py), and a signer that
converts ECDSA's DER signature to COSE's raw r || s as the KMS adapter does."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from PIL import Image, PngImagePlugin

from chalicelib import imaging
from chalicelib.adapters.signing_key import der_to_raw
from chalicelib.provenance import credentials
from objektify.credentials import (
    chain_pem,
    chain_problem,
    development_root,
    issue_signing_certificate,
)

IMAGE_ID = "01JTESTIMAGE0000000000000"
CREATED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _public_der(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def local_key(directory: Path) -> credentials.SigningKey:
    """A signing key under a development root in `directory`, signing as KMS would."""
    root_key, root = development_root(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = issue_signing_certificate(root_key, root, _public_der(key))

    def sign(message: bytes) -> bytes:
        return der_to_raw(key.sign(message, ec.ECDSA(hashes.SHA256())))

    return credentials.SigningKey(chain_pem(certificate, root), sign)


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> credentials.SigningKey:
    return local_key(tmp_path_factory.mktemp("root"))


@pytest.fixture(scope="module")
def copies() -> imaging.Derivatives:
    image = Image.radial_gradient("L").convert("RGB").resize((320, 320))
    info = PngImagePlugin.PngInfo()
    info.add_text(imaging.PROVENANCE_CHUNK, json.dumps({"name": "tiny-sd", "version": "3"}))
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return imaging.derivatives(imaging.verify(out.getvalue()), IMAGE_ID)


@pytest.fixture(scope="module")
def signed(ours: credentials.SigningKey, copies: imaging.Derivatives) -> Iterator[dict[str, bytes]]:
    yield {
        mime: credentials.sign(data, mime, IMAGE_ID, "tiny-sd", "3", key=ours)
        for mime, data in (("image/png", copies.full_png), ("image/webp", copies.web_webp))
    }


@pytest.mark.parametrize("mime", ["image/png", "image/webp"])
def test_a_signed_copy_reads_back_as_ours_with_what_made_it(
    mime: str, ours: credentials.SigningKey, signed: dict[str, bytes]
) -> None:
    reading = credentials.read(signed[mime], mime, anchor=ours.root)
    assert reading is not None
    assert reading.valid and reading.signed_by_us, reading.failures
    assert reading.image_id == IMAGE_ID
    assert (reading.model_name, reading.model_version) == ("tiny-sd", "3")
    assert reading.claim_generator == "Objektify"
    assert reading.digital_source_type == CREATED
    assert reading.failures == ()


@pytest.mark.parametrize(
    ("mime", "key"), [("image/png", "XML:com.adobe.xmp"), ("image/webp", "xmp")]
)
def test_signing_keeps_the_xmp_packet_and_the_pixels(
    mime: str, key: str, copies: imaging.Derivatives, signed: dict[str, bytes]
) -> None:
    original = copies.full_png if mime == "image/png" else copies.web_webp
    with Image.open(io.BytesIO(signed[mime])) as after, Image.open(io.BytesIO(original)) as before:
        xmp = after.info[key]
        assert (xmp.decode() if isinstance(xmp, bytes) else xmp).count(CREATED) == 1
        assert f'dc:identifier="{IMAGE_ID}"' in (xmp.decode() if isinstance(xmp, bytes) else xmp)
        assert after.tobytes() == before.tobytes()


def test_one_changed_pixel_byte_breaks_the_hard_binding(
    ours: credentials.SigningKey, signed: dict[str, bytes]
) -> None:
    tampered = bytearray(signed["image/png"])
    tampered[tampered.index(b"IDAT") + 40] ^= 0x01
    reading = credentials.read(bytes(tampered), "image/png", anchor=ours.root)
    assert reading is not None
    assert not reading.valid and not reading.signed_by_us
    assert "assertion.dataHash.mismatch" in reading.failures


def test_a_changed_webp_byte_breaks_the_hard_binding(
    ours: credentials.SigningKey, signed: dict[str, bytes]
) -> None:
    tampered = bytearray(signed["image/webp"])
    tampered[tampered.index(b"VP8") + 64] ^= 0x01
    reading = credentials.read(bytes(tampered), "image/webp", anchor=ours.root)
    assert reading is not None and not reading.valid
    assert "assertion.dataHash.mismatch" in reading.failures


def test_a_manifest_from_another_root_is_valid_but_not_ours(
    tmp_path: Path, copies: imaging.Derivatives, ours: credentials.SigningKey
) -> None:
    theirs = local_key(tmp_path)
    forged = credentials.sign(copies.full_png, "image/png", IMAGE_ID, "tiny-sd", "3", key=theirs)
    reading = credentials.read(forged, "image/png", anchor=ours.root)
    assert reading is not None
    assert reading.valid and not reading.signed_by_us
    assert reading.image_id == IMAGE_ID  # a claim anyone can write: only signed_by_us counts


def test_a_file_without_a_manifest_reads_as_none(copies: imaging.Derivatives) -> None:
    assert credentials.read(copies.full_png, "image/png", anchor=None) is None
    assert credentials.read(b"not an image at all", "image/png", anchor=None) is None
    assert credentials.read(copies.full_png, "image/gif", anchor=None) is None


def test_a_signer_that_fails_publishes_nothing(
    ours: credentials.SigningKey, copies: imaging.Derivatives
) -> None:
    def refuse(message: bytes) -> bytes:
        raise ConnectionError("KMS unreachable")

    broken = credentials.SigningKey(ours.chain, refuse)
    with pytest.raises(credentials.SigningFailed) as raised:
        credentials.sign(copies.full_png, "image/png", IMAGE_ID, "tiny-sd", "3", key=broken)
    assert isinstance(raised.value.__cause__, ConnectionError)


def test_the_der_signature_becomes_raw_r_and_s_that_verify() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    raw = der_to_raw(key.sign(b"claim", ec.ECDSA(hashes.SHA256())))
    assert len(raw) == 64
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    key.public_key().verify(encode_dss_signature(r, s), b"claim", ec.ECDSA(hashes.SHA256()))


def test_the_signing_certificate_has_the_profile_c2pa_requires(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    root_key, root = development_root(tmp_path)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = issue_signing_certificate(root_key, root, _public_der(key))
    assert certificate.version == x509.Version.v3
    assert certificate.issuer == root.subject != certificate.subject
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    assert ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku
    assert development_root(tmp_path)[1] == root  # kept and reused
    assert (tmp_path / "credentials-root.key").stat().st_mode & 0o077 == 0


def test_a_chain_for_another_key_is_refused(tmp_path: Path) -> None:
    root_key, root = development_root(tmp_path)
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    chain = chain_pem(issue_signing_certificate(root_key, root, _public_der(key)), root)
    assert chain_problem(chain, _public_der(key)) is None
    assert chain_problem(chain, _public_der(other)) == (
        "the first certificate is not for the signing key"
    )
    assert chain_problem("junk", _public_der(key)) is not None


def test_kms_signs_through_the_adapter_with_the_chain_from_ssm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copies: imaging.Derivatives
) -> None:
    """The deployment's path: the KMS key (moto) signs, the chain comes from SSM; made as the
    local bootstrap makes them."""
    import boto3
    from moto import mock_aws

    from chalicelib.adapters import aws, signing_key
    from chalicelib.settings import get_settings
    from objektify.credentials import ensure_development_chain

    for name in ("AWS_ENDPOINT_URL", "OBJEKTIFY_CREDENTIALS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("OBJEKTIFY_STAGE", "unit")

    def reset() -> None:
        get_settings.cache_clear()
        aws.client.cache_clear()
        signing_key._provider.cache_clear()

    reset()
    try:
        with mock_aws():
            settings = get_settings()
            kms, ssm = boto3.client("kms", "us-east-1"), boto3.client("ssm", "us-east-1")
            key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"][
                "KeyId"
            ]
            kms.create_alias(AliasName=settings.credentials_key_id, TargetKeyId=key_id)
            parameter = settings.credentials_chain_parameter
            chain = ensure_development_chain(
                kms, ssm, settings.credentials_key_id, parameter, tmp_path
            )
            again = ensure_development_chain(
                kms, ssm, settings.credentials_key_id, parameter, tmp_path
            )
            assert again == chain  # kept, not issued again

            made = credentials.sign(copies.web_webp, "image/webp", IMAGE_ID, "tiny-sd", "3")
            reading = credentials.read(made, "image/webp")  # our anchor: the chain's root
            assert reading is not None and reading.signed_by_us and reading.valid
            assert reading.image_id == IMAGE_ID
    finally:
        reset()


def test_the_local_emulator_snapshot_keeps_the_signing_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make dev` restarts keep the KMS key (its EC private key is pickled as PEM), so the
    development chain in SSM stays valid for it."""
    import boto3
    from moto import mock_aws

    from local import persistence

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    snapshot = tmp_path / "aws-state.pickle"
    with mock_aws():
        kms = boto3.client("kms", "us-east-1")
        key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"][
            "KeyId"
        ]
        before = kms.get_public_key(KeyId=key_id)["PublicKey"]
        persistence.save(snapshot)
    with mock_aws():
        kms = boto3.client("kms", "us-east-1")
        persistence.load(snapshot)
        assert kms.get_public_key(KeyId=key_id)["PublicKey"] == before
        signature = kms.sign(
            KeyId=key_id, Message=b"claim", MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"
        )["Signature"]
        assert kms.verify(
            KeyId=key_id,
            Message=b"claim",
            MessageType="RAW",
            Signature=signature,
            SigningAlgorithm="ECDSA_SHA_256",
        )["SignatureValid"]


def test_the_operator_commands_check_and_swap_the_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`objektify credentials …` against AWS (moto): a development chain, the key's public
    key, a CA's chain refused when it is for another key and stored when it is for ours."""
    import boto3
    from moto import mock_aws

    from chalicelib.adapters import aws
    from chalicelib.settings import get_settings
    from objektify.cli import main

    for name in ("AWS_ENDPOINT_URL", "OBJEKTIFY_CREDENTIALS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("OBJEKTIFY_STAGE", "unit")
    monkeypatch.setenv("OBJEKTIFY_LOCAL_DIR", str(tmp_path / "no-stack"))
    get_settings.cache_clear()
    aws.client.cache_clear()
    try:
        with mock_aws():
            kms = boto3.client("kms", "us-east-1")
            key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"][
                "KeyId"
            ]
            kms.create_alias(AliasName=get_settings().credentials_key_id, TargetKeyId=key_id)
            root_dir = tmp_path / "operator"
            assert main(["credentials", "dev-chain", "--root-dir", str(root_dir)]) == 0
            assert (root_dir / "credentials-root.pem").exists()
            assert main(["credentials", "show"]) == 0
            assert "the chain signs for the key" in capsys.readouterr().out

            assert main(["credentials", "public-key"]) == 0
            public_pem = capsys.readouterr().out
            public_der = serialization.load_pem_public_key(public_pem.encode()).public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            ca_key, ca = development_root(tmp_path / "a-ca")
            wrong = chain_pem(
                issue_signing_certificate(
                    ca_key, ca, _public_der(ec.generate_private_key(ec.SECP256R1()))
                ),
                ca,
            )
            (tmp_path / "wrong.pem").write_text(wrong)
            assert main(["credentials", "set-chain", str(tmp_path / "wrong.pem")]) == 1
            assert "not for the signing key" in capsys.readouterr().out
            right = chain_pem(issue_signing_certificate(ca_key, ca, public_der), ca)
            (tmp_path / "right.pem").write_text(right)
            assert main(["credentials", "set-chain", str(tmp_path / "right.pem")]) == 0
            stored = boto3.client("ssm", "us-east-1").get_parameter(
                Name=get_settings().credentials_chain_parameter
            )["Parameter"]["Value"]
            assert stored == right
    finally:
        get_settings.cache_clear()
        aws.client.cache_clear()


def test_without_a_stored_chain_a_manifest_is_read_but_never_ours(
    monkeypatch: pytest.MonkeyPatch, signed: dict[str, bytes]
) -> None:
    """A new stage's parameter holds a placeholder until an operator stores a chain."""
    placeholder = credentials.SigningKey("NOT A CERTIFICATE CHAIN: store one", lambda m: b"")
    monkeypatch.setattr(credentials, "kms_key", lambda: placeholder)
    reading = credentials.read(signed["image/png"], "image/png")
    assert reading is not None
    assert reading.valid and not reading.signed_by_us
    assert reading.image_id == IMAGE_ID


def test_a_remix_names_its_source_in_its_signed_manifest(
    ours: credentials.SigningKey, copies: imaging.Derivatives
) -> None:
    source = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    data = credentials.sign(copies.full_png, "image/png", IMAGE_ID, "tiny-sd", "3", ours, source)
    reading = credentials.read(data, "image/png", anchor=ours.root)
    assert reading is not None and reading.valid and reading.signed_by_us
    assert (reading.image_id, reading.remix_of) == (IMAGE_ID, source)
    plain = credentials.read(
        credentials.sign(copies.full_png, "image/png", IMAGE_ID, None, None, ours),
        "image/png",
        anchor=ours.root,
    )
    assert plain is not None and plain.remix_of is None
