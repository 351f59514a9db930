"""Detection after the metadata is gone: the fingerprint index (bands, Hamming distance, the
look-up), the watermark's round trip, and the check's verdicts on published, removed and
erased images."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from chalicelib import resources
from chalicelib.adapters import clock, ids, storage
from chalicelib.models.fingerprints import FingerprintBand
from chalicelib.models.generations import find
from chalicelib.provenance import check, credentials, fingerprints, watermark
from chalicelib.services import erasure, gallery
from chalicelib.services.errors import InvalidImage, PayloadTooLarge, RateLimited
from chalicelib.settings import get_settings
from functions.inference import watermark as marking
from tests.support.in_process_aws import aws, consented_profile, scanned


def textured(side: int, seed: int, factor: int = 4) -> Image.Image:
    """A picture with real texture (smooth noise), as a model paints and PDQ needs."""
    noise = np.random.default_rng(seed).random((side // factor, side // factor, 3)) * 255
    small = Image.fromarray(noise.astype(np.uint8), "RGB")
    return small.resize((side, side), Image.Resampling.BICUBIC)


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg(image: Image.Image, quality: int = 70) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def stripped_jpeg_half(data: bytes) -> bytes:
    """What a re-upload goes through: pixels only, JPEG quality 70, half the size."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    half = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
    return jpeg(half, 70)


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # These tests are about pixels: the published copies go out unsigned here (signing is
    # tested in test_content_credentials.py and over HTTP), so no KMS key or chain is needed.
    monkeypatch.setattr(credentials, "signed_copies", lambda made, verified, image_id, **_: made)
    monkeypatch.setenv("OBJEKTIFY_ADDRESS_HASH_KEY", "check-address-key")
    monkeypatch.setenv("OBJEKTIFY_PROVENANCE_CHECK_LIMIT", "50")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


# Bands and distance ----------------------------------------------------------------------------


def test_a_hash_is_cut_into_sixteen_bands_of_sixteen_bits_that_put_it_back_together() -> None:
    bits = random.Random(3).getrandbits(256)
    parts = fingerprints.bands(bits)
    assert len(parts) == 16 and all(0 <= p < 1 << 16 for p in parts)
    assert int("".join(f"{p:04x}" for p in parts), 16) == bits
    keys = fingerprints.band_keys(bits)
    assert keys[0] == f"00#{parts[0]:04x}" and keys[15] == f"15#{parts[15]:04x}"


def test_distance_counts_the_differing_bits() -> None:
    assert fingerprints.distance(0, 0) == 0
    assert fingerprints.distance(0b1011, 0b0001) == 2
    assert fingerprints.distance(0, (1 << 256) - 1) == 256


@given(
    st.integers(min_value=0, max_value=(1 << 256) - 1),
    st.sets(st.integers(min_value=0, max_value=255), max_size=fingerprints.GUARANTEED_DISTANCE),
)
def test_every_hash_within_fifteen_bits_shares_a_band_partition(bits: int, flips: set[int]) -> None:
    other = bits
    for position in flips:
        other ^= 1 << position
    assert fingerprints.distance(bits, other) == len(flips)
    assert set(fingerprints.band_keys(bits)) & set(fingerprints.band_keys(other))


def test_sixteen_bits_spread_over_every_band_can_hide_from_the_index() -> None:
    # The guarantee's edge, said in the docs: one bit in each band leaves no band equal.
    bits = random.Random(5).getrandbits(256)
    other = bits
    for band in range(16):
        other ^= 1 << (band * 16)
    assert not set(fingerprints.band_keys(bits)) & set(fingerprints.band_keys(other))


def test_a_flat_image_has_a_low_quality_hash_that_is_neither_kept_nor_looked_up() -> None:
    flat = Image.new("RGB", (512, 512), (40, 90, 160))
    assert not fingerprints.compute(flat).usable
    with aws():
        fingerprints.record(ids.new_id(), flat, "m", "1", clock.now())
        assert list(FingerprintBand.scan()) == []
        assert fingerprints.lookup(fingerprints.compute(flat)) == []


# Look-up ----------------------------------------------------------------------------------


def test_a_recorded_image_is_found_after_jpeg_and_resize_and_an_unrelated_one_is_not() -> None:
    original = textured(512, seed=1)
    image_id = ids.new_id()
    with aws():
        kept = fingerprints.record(image_id, original, "tiny", "0.1", clock.now())
        assert kept.usable
        # Recording again (a retried scan) writes the same 16 items.
        fingerprints.record(image_id, original, "tiny", "0.1", clock.now())
        assert len(list(FingerprintBand.scan())) == 16
        copy = Image.open(io.BytesIO(stripped_jpeg_half(png(original))))
        matches = fingerprints.lookup(fingerprints.compute(copy))
        assert [m.image_id for m in matches] == [image_id]
        assert matches[0].distance <= fingerprints.MATCH_DISTANCE
        assert (matches[0].model_name, matches[0].model_version) == ("tiny", "0.1")
        for seed in range(2, 12):
            assert fingerprints.lookup(fingerprints.compute(textured(512, seed))) == []


# Watermark ----------------------------------------------------------------------------------


def test_an_image_id_packs_into_sixteen_bytes_and_back() -> None:
    image_id = ids.new_id()
    assert len(watermark.pack(image_id)) == 16
    assert watermark.unpack(watermark.pack(image_id)) == image_id
    with pytest.raises(ValueError):
        watermark.pack("not-an-id")


def test_the_watermark_carries_the_image_id_through_a_lossless_copy() -> None:
    image_id = ids.new_id()
    marked = marking.embed_image(textured(512, seed=7), image_id)
    copy = Image.open(io.BytesIO(png(marked)))  # pixels only: no metadata survives
    assert watermark.read(np.asarray(copy.convert("RGB"))) == image_id
    # Deterministic: the same pixels and id give the same bytes (batches stay identical).
    assert png(marking.embed_image(textured(512, seed=7), image_id)) == png(marked)


@pytest.mark.parametrize(
    ("size", "factor", "marked"),
    [((512, 512), 4, True), ((300, 517), 16, True), ((1024, 768), 2, True), ((512, 512), 4, False)],
)
def test_the_numpy_reader_gives_the_bits_invisible_watermark_gives(
    size: tuple[int, int], factor: int, marked: bool
) -> None:
    # The API reads without OpenCV or the library (neither is in Lambda): same bits, always.
    import cv2

    noise = np.random.default_rng(factor).random((size[1] // factor, size[0] // factor, 3))
    picture = Image.fromarray((noise * 255).astype(np.uint8), "RGB").resize(size)
    if marked:
        picture = marking.embed_image(picture, ids.new_id())
    for copy in (picture, Image.open(io.BytesIO(jpeg(picture, 85))).convert("RGB")):
        rgb = np.asarray(copy)
        decoder = marking.embedder_class()(watermarks=[], wmLen=watermark.PAYLOAD_BITS)
        theirs = decoder.decode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR).astype(np.float32))
        assert watermark.decoded_bits(rgb) == [int(bit) for bit in theirs]


def test_the_watermark_does_not_survive_jpeg_and_reads_as_nothing() -> None:
    # Measured: dwtDct's mark is lost at JPEG quality 90 and below; the fingerprint answers.
    marked = marking.embed_image(textured(512, seed=8), ids.new_id())
    copy = Image.open(io.BytesIO(jpeg(marked, 70))).convert("RGB")
    assert watermark.read(np.asarray(copy)) is None


def test_an_unmarked_or_too_small_image_reads_as_no_id() -> None:
    assert all(watermark.read(np.asarray(textured(512, seed=s))) is None for s in range(20, 25))
    tiny = textured(64, seed=9)
    assert marking.embed_image(tiny, ids.new_id()) is tiny
    assert watermark.read(np.asarray(tiny)) is None


# The check ----------------------------------------------------------------------------------


def _published_output(creator: str, picture: Image.Image) -> str:
    """Submit as `creator`, put `picture` where the model's output lands, scan and publish."""
    from chalicelib.services import submission

    request = submission.GenerationRequest("a harbour at dusk", None, 512, 512, 4, 7)
    made = submission.submit(submission.admit(creator), request, None)
    settings = get_settings()
    storage.put_bytes(
        settings.originals_bucket, resources.output_key(made.id), png(picture), "image/png"
    )
    assert scanned(made.id, "publish") == "published"
    return made.id


def test_a_published_image_is_recognised_after_stripping_jpeg_and_resize() -> None:
    with aws():
        creator = consented_profile("creator-1")
        image_id = _published_output(creator, textured(512, seed=11))
        full = storage.read(
            get_settings().public_bucket, resources.public_keys(image_id)["full"], 10**8
        )
        verdict = check.check(stripped_jpeg_half(full), "image/jpeg", "10.1.1.1")
        assert verdict.made_here and verdict.public
        assert verdict.image_id == image_id
        assert verdict.evidence == ["fingerprint"]
        assert verdict.created_at is not None
        elsewhere = check.check(jpeg(textured(512, seed=12)), "image/jpeg", "10.1.1.1")
        assert not elsewhere.made_here and elsewhere.image_id is None
        assert elsewhere.evidence == []


def test_a_removed_or_erased_image_is_made_here_but_leads_nowhere() -> None:
    with aws():
        creator = consented_profile("creator-2")
        removed = _published_output(creator, textured(512, seed=13))
        erased = _published_output(creator, textured(512, seed=14))
        gallery.delete_image(removed, creator, is_moderator=False)
        verdict = check.check(jpeg(textured(512, seed=13)), "image/jpeg", "10.1.1.2")
        assert (verdict.made_here, verdict.public, verdict.image_id) == (True, False, None)
        assert verdict.created_at is None and verdict.evidence == ["fingerprint"]

        before = {(i.band_key, i.image_id) for i in FingerprintBand.scan()}
        erasure.finish_erasure(creator)  # every step, as the erasures queue runs them
        assert find(erased) is None and find(removed) is None
        # The fingerprint items name no one, and stay: the fact of generation.
        assert {(i.band_key, i.image_id) for i in FingerprintBand.scan()} == before
        assert not any(
            creator in str(v) for i in FingerprintBand.scan() for v in i.attribute_values.values()
        )
        verdict = check.check(png(textured(512, seed=14)), "image/png", "10.1.1.2")
        assert (verdict.made_here, verdict.public, verdict.image_id) == (True, False, None)
        assert erased not in repr(verdict)


def test_the_check_refuses_what_is_not_an_image_it_reads() -> None:
    with aws():
        with pytest.raises(PayloadTooLarge):
            check.check(b"\0" * (check.MAX_BYTES + 1), "image/png", "10.1.1.3")
        with pytest.raises(InvalidImage):
            check.check(png(textured(256, 1)), "image/gif", "10.1.1.3")
        with pytest.raises(InvalidImage):
            check.check(b"%PDF-1.7 not an image", "image/png", "10.1.1.3")
        with pytest.raises(InvalidImage):
            check.check(png(textured(256, 1))[:300], "image/png", "10.1.1.3")


def test_checks_are_rate_limited_per_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBJEKTIFY_PROVENANCE_CHECK_LIMIT", "2")
    get_settings.cache_clear()
    picture = png(textured(256, 2))
    with aws():
        check.check(picture, "image/png", "10.9.9.9")
        check.check(picture, "image/png", "10.9.9.9")
        with pytest.raises(RateLimited) as refused:
            check.check(picture, "image/png", "10.9.9.9")
        assert refused.value.retry_after is not None
        check.check(picture, "image/png", "10.9.9.8")  # another address has its own
