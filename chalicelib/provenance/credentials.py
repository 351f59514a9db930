"""Content credentials: a signed C2PA manifest in every published file, made and read with the
Content Authenticity Initiative's own library (c2pa-python, the bindings of c2pa-rs).

The manifest says what the IPTC XMP packet already says, but signed: a `c2pa.actions` assertion
(`c2pa.created`, digital source type `trainedAlgorithmicMedia`, the model as software agent),
the service as claim generator, and the image id in `com.objektify.image`. The hard binding
(`c2pa.hash.data`) covers every byte of the file but the manifest itself, so one changed pixel
byte breaks it. The file's XMP packet is kept as it is.

Signing goes through a callback signer: c2pa hands over the COSE to-be-signed bytes and the
callback returns the ES256 signature, made by the KMS key (`adapters.signing_key`) in AWS and in
the local stack (moto's KMS), or by a key given in `SigningKey` (tests).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.imaging import Derivatives, VerifiedImage

# As in the XMP packet (chalicelib.imaging, which loads Pillow: not needed to read a manifest).
DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
SERVICE_NAME = "Objektify"
IMAGE_ASSERTION = "com.objektify.image"
ACTIONS = ("c2pa.actions", "c2pa.actions.v2")
SIGNABLE = ("image/png", "image/webp")
READABLE = ("image/png", "image/webp", "image/jpeg")
# Failures that say who signed, not whether the file is intact: a manifest signed by someone
# whose certificate does not chain to our anchor is still a valid manifest, just not ours.
_TRUST_CODES = frozenset({"signingCredential.untrusted"})


class SigningFailed(Exception):
    """The manifest could not be signed; nothing may be published unsigned."""


@dataclass(frozen=True)
class SigningKey:
    """A key that signs: its PEM chain (signing certificate first, the root last) and a
    function giving the ES256 signature of a message as raw r || s (64 bytes)."""

    chain: str
    sign: Callable[[bytes], bytes]

    @property
    def root(self) -> str:
        """The chain's last certificate: the anchor a reader trusts to call a manifest ours."""
        begin = "-----BEGIN CERTIFICATE-----"
        return begin + self.chain.strip().split(begin)[-1] + "\n"


@dataclass(frozen=True)
class CredentialReading:
    """What a file's C2PA manifest says, and whether it holds.

    `valid`: the claim signature verifies and the hard binding matches the file's bytes.
    `signed_by_us`: also, the signing certificate chains to our chain's root and names our
    organisation. Fields read from a manifest that is not `signed_by_us` are claims anyone
    could write."""

    image_id: str | None
    model_name: str | None
    model_version: str | None
    claim_generator: str | None
    digital_source_type: str | None
    signer: str | None  # the signing certificate's organisation
    signed_by_us: bool
    valid: bool
    failures: tuple[str, ...]  # the validator's failure codes, e.g. assertion.dataHash.mismatch
    remix_of: str | None = None  # the published image a remix started from
    made_from: str | None = None  # "upload": image-to-image from its creator's upload


def kms_key() -> SigningKey:
    """The deployment's key: the KMS key and the chain in SSM that settings name."""
    from chalicelib.adapters import signing_key

    return SigningKey(signing_key.certificate_chain(), signing_key.sign)


def _service_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("objektify")
    except PackageNotFoundError:
        return "dev"


def manifest(
    image_id: str,
    model_name: str | None,
    model_version: str | None,
    remix_of: str | None = None,
    made_from: str | None = None,
) -> dict[str, Any]:
    """The manifest definition c2pa's Builder signs; a remix names its source image; an image
    made from its creator's upload says `made_from: "upload"` (never which upload: private)."""
    image: dict[str, Any] = {"image_id": image_id}
    if remix_of:
        image["remix_of"] = remix_of
    if made_from:
        image["made_from"] = made_from
    created: dict[str, Any] = {"action": "c2pa.created", "digitalSourceType": DIGITAL_SOURCE_TYPE}
    if model_name:
        created["softwareAgent"] = {"name": model_name, "version": model_version or ""}
    return {
        "claim_generator_info": [{"name": SERVICE_NAME, "version": _service_version()}],
        "title": image_id,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [created]}},
            {"label": IMAGE_ASSERTION, "data": image},
        ],
    }


class _Signing(threading.local):
    """Per thread, one c2pa Context per (chain, sign function), built once: the callback signer
    is owned by its Context. The callback's exception, which c2pa reduces to a code, is kept to
    be raised."""

    def __init__(self) -> None:
        self.contexts: dict[tuple[str, Callable[[bytes], bytes]], Any] = {}
        self.error: BaseException | None = None

    def context(self, key: SigningKey) -> Any:
        import c2pa  # a native library: loaded by the functions that sign or read, only

        found = self.contexts.get((key.chain, key.sign))
        if found is not None:
            return found

        def callback(data: bytes) -> bytes:
            try:
                return key.sign(data)
            except BaseException as exc:
                self.error = exc
                raise

        signer = c2pa.Signer.from_callback(callback, c2pa.C2paSigningAlg.ES256, key.chain, None)
        # No claim thumbnail: it would put a second copy of the picture in every file.
        settings = {"builder": {"thumbnail": {"enabled": False}}}
        made = c2pa.Context.from_dict(settings, signer=signer)
        if len(self.contexts) >= 4:  # an old chain, after an operator swapped it
            self.contexts.clear()
        self.contexts[(key.chain, key.sign)] = made
        return made


_SIGNING = _Signing()


@lru_cache(maxsize=1)
def _helper() -> ThreadPoolExecutor:
    """A second thread for the second copy: c2pa hashes without the GIL and KMS answers over
    the network, so the two signatures of an image overlap."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="c2pa")


def sign(
    data: bytes,
    mime: str,
    image_id: str,
    model_name: str | None,
    model_version: str | None,
    key: SigningKey | None = None,
    remix_of: str | None = None,
    made_from: str | None = None,
) -> bytes:
    """`data` (a PNG or WebP) with a signed C2PA manifest embedded; raises SigningFailed."""
    import c2pa

    if mime not in SIGNABLE:
        raise SigningFailed(f"cannot sign {mime}")
    try:
        key = key or kms_key()
        _SIGNING.error = None
        made = manifest(image_id, model_name, model_version, remix_of, made_from)
        builder = c2pa.Builder(made, _SIGNING.context(key))
        out = io.BytesIO()
        with builder:
            builder.sign(mime, io.BytesIO(data), out)
        return out.getvalue()
    except c2pa.C2paError as exc:
        raise SigningFailed(f"c2pa could not sign {mime}: {exc}") from (_SIGNING.error or exc)
    except SigningFailed:
        raise
    except Exception as exc:  # the chain could not be read, the key could not be reached
        raise SigningFailed(f"no signing key: {exc}") from exc


def _trust_settings(anchor: str | None) -> dict[str, Any]:
    if anchor is None:
        return {"verify": {"verify_trust": False}}
    return {"trust": {"trust_anchors": anchor}, "verify": {"verify_trust": True}}


def _our_anchor() -> str | None:
    """Our chain's root; None while no chain is stored (a new stage's parameter holds a
    placeholder until an operator stores one): manifests are then read, just never as ours."""
    try:
        key = kms_key()
    except Exception:
        return None
    return key.root if "-----BEGIN CERTIFICATE-----" in key.chain else None


def read(data: bytes, mime: str, anchor: str | None = None) -> CredentialReading | None:
    """The C2PA manifest in `data`, validated; None when the file carries none (or is not a
    kind c2pa reads). `anchor`: the root certificate (PEM) that makes a signer ours; the root
    of our own chain by default."""
    import c2pa

    if mime not in READABLE:
        return None
    anchor = anchor if anchor is not None else _our_anchor()
    try:
        with c2pa.Context.from_dict(_trust_settings(anchor)) as context:
            reader = c2pa.Reader.try_create(mime, io.BytesIO(data), None, context)
            if reader is None:
                return None
            with reader:
                active = reader.get_active_manifest()
                results = reader.get_validation_results() or {}
    except c2pa.C2paError:
        return None  # not a readable file, or a manifest store c2pa cannot parse
    if not active:
        return None
    return _reading(active, results.get("activeManifest") or {})


def _reading(active: dict[str, Any], results: dict[str, Any]) -> CredentialReading:
    failures = tuple(str(item.get("code")) for item in results.get("failure") or [])
    successes = {str(item.get("code")) for item in results.get("success") or []}
    assertions = {a.get("label"): a.get("data") or {} for a in active.get("assertions") or []}
    created: dict[str, Any] = {}
    for label in ACTIONS:
        for action in (assertions.get(label) or {}).get("actions") or []:
            if action.get("action") == "c2pa.created":
                created = action
    agent = created.get("softwareAgent")
    agent = agent if isinstance(agent, dict) else {"name": agent} if agent else {}
    generator: dict[str, Any] = next(iter(active.get("claim_generator_info") or []), {})
    signer = (active.get("signature_info") or {}).get("issuer")
    valid = not [code for code in failures if code not in _TRUST_CODES]
    image = assertions.get(IMAGE_ASSERTION) or {}
    return CredentialReading(
        image_id=str(image["image_id"]) if image.get("image_id") else None,
        model_name=agent.get("name") or None,
        model_version=agent.get("version") or None,
        claim_generator=generator.get("name"),
        digital_source_type=created.get("digitalSourceType"),
        signer=signer,
        signed_by_us=valid and "signingCredential.trusted" in successes and signer == SERVICE_NAME,
        valid=valid,
        failures=failures,
        remix_of=str(image["remix_of"]) if image.get("remix_of") else None,
        made_from=str(image["made_from"]) if image.get("made_from") else None,
    )


def signed_copies(
    made: Derivatives,
    verified: VerifiedImage,
    image_id: str,
    key: SigningKey | None = None,
    remix_of: str | None = None,
    made_from: str | None = None,
) -> Derivatives:
    """The served copies with the web WebP and the full-size PNG signed, side by side (the
    thumbnail, a preview, is not). Raises SigningFailed if either cannot be signed."""
    from dataclasses import replace

    try:
        key = key or kms_key()
    except Exception as exc:
        raise SigningFailed(f"no signing key: {exc}") from exc
    model = (verified.model_name, verified.model_version)
    web = _helper().submit(
        sign, made.web_webp, "image/webp", image_id, *model, key, remix_of, made_from
    )
    full = sign(made.full_png, "image/png", image_id, *model, key, remix_of, made_from)
    return replace(made, web_webp=web.result(), full_png=full)
