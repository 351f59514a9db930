"""Signed review links last hours, not a day, can be revoked, and every opening says which link
was used, from where (a keyed hash) and by which moderator when one signed in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import pytest

from chalicelib.adapters import clock
from chalicelib.services import review_links
from chalicelib.services.errors import InvalidSignature, LinkExpired
from chalicelib.settings import get_settings

KEY = "review-key"


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OBJEKTIFY_SIGNING_KEYS", KEY)
    monkeypatch.setenv("OBJEKTIFY_ADDRESS_HASH_KEY", "address-key")
    monkeypatch.delenv("OBJEKTIFY_REVIEW_LINK_SECONDS", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def signed(claims: dict) -> str:
    """A token signed with the key in use, carrying exactly `claims` (and the key's id)."""
    payload = json.dumps(
        {**claims, "k": hashlib.sha256(KEY.encode()).hexdigest()[:8]}, separators=(",", ":")
    ).encode()
    mac = hmac.new(KEY.encode(), b"review-link\x00" + payload, hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{b64(payload)}.{b64(mac)}"


IMAGE = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def test_a_review_link_lasts_four_hours_by_default() -> None:
    before = time.time()
    link = review_links.mint(IMAGE, "mona")
    assert 4 * 3600 - 1 <= link.expires_at - before <= 4 * 3600 + 1
    grant = review_links.verify(link.token)
    assert (grant.image_id, grant.minted_by, grant.link_id) == (IMAGE, "mona", link.link_id)


def test_no_setting_makes_a_link_last_longer_than_eight_hours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OBJEKTIFY_REVIEW_LINK_SECONDS", "86400")
    get_settings.cache_clear()
    link = review_links.mint(IMAGE, "mona")
    assert link.expires_at - time.time() <= 8 * 3600 + 1
    assert review_links.mint(IMAGE, "mona", seconds=7 * 86400).expires_at - time.time() <= (
        8 * 3600 + 1
    )


def test_every_link_has_an_id_of_its_own() -> None:
    first, second = review_links.mint(IMAGE, "mona"), review_links.mint(IMAGE, "mona")
    assert first.link_id != second.link_id


def test_a_link_made_before_links_had_ids_counts_as_expired() -> None:
    legacy = signed({"i": IMAGE, "e": int(time.time()) + 3600, "b": "mona"})
    with pytest.raises(LinkExpired):
        review_links.verify(legacy)


def test_a_signed_link_made_to_last_a_day_counts_as_expired() -> None:
    now_ms = int(time.time() * 1000)
    day_long = signed(
        {"i": IMAGE, "l": "L1", "b": "mona", "t": now_ms, "e": now_ms // 1000 + 86_400}
    )
    with pytest.raises(LinkExpired):
        review_links.verify(day_long)


def test_a_link_whose_id_or_minter_was_changed_is_refused() -> None:
    token = review_links.mint(IMAGE, "mona").token
    payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for field, value in (("l", "01ARZ3NDEKTSV4RRFFQ69G5FAW"), ("b", "someone-else")):
        changed = {**claims, field: value}
        encoded = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
        with pytest.raises(InvalidSignature):
            review_links.verify(f"{encoded}.{signature}")


# Revocation and the record of each opening, on moto's in-process AWS ------------------------

moto = pytest.importorskip("moto")


@pytest.fixture
def image() -> Iterator[str]:
    from chalicelib.services import terms
    from tests.support.in_process_aws import aws, consented_profile, painted, scanned

    with aws():
        terms.publish_terms("Terms for the review link test.")
        image_id = painted(consented_profile("creator-1"))
        assert scanned(image_id, "review") == "in_review"
        yield image_id


def views_of(image_id: str) -> list[dict]:
    from chalicelib.models.audit import AuditEntry

    return [
        {"actor": e.actor, **(e.details.as_dict() if e.details is not None else {})}
        for e in AuditEntry.scan()
        if e.action == "view" and e.target_id == image_id
    ]


def token_of(url: str) -> str:
    return url.rsplit("/review/", 1)[1]


def test_a_revoked_link_is_gone_and_a_link_minted_after_opens(image: str) -> None:
    from chalicelib.services import moderation

    before = token_of(moderation.mint_link("mona", image, "http://x").url)
    assert moderation.open_link(before, None, "192.0.2.1").image_id == image
    moderation.revoke_links("mona", image)
    with pytest.raises(LinkExpired) as gone:
        moderation.open_link(before, None, "192.0.2.1")
    assert gone.value.details == {"revoked": True}
    time.sleep(0.002)  # links minted in a later millisecond than the revocation
    after = token_of(moderation.mint_link("max", image, "http://x").url)
    assert moderation.open_link(after, None, "192.0.2.1").image_id == image


def test_revoking_an_unknown_image_is_not_found() -> None:
    from chalicelib.services import moderation, terms
    from chalicelib.services.errors import NotFound
    from tests.support.in_process_aws import aws

    with aws():
        terms.publish_terms("Terms for the review link test.")
        with pytest.raises(NotFound):
            moderation.revoke_links("mona", "01ARZ3NDEKTSV4RRFFQ69G5FAV")


def test_revocation_is_in_the_audit_log_with_who_revoked(image: str) -> None:
    from chalicelib.models.audit import AuditEntry
    from chalicelib.services import moderation

    moderation.revoke_links("mona", image)
    (entry,) = [e for e in AuditEntry.scan() if e.action == "revoke_review_links"]
    assert (entry.actor, entry.target_id) == ("mona", image)


def test_opening_a_link_records_the_link_the_opener_address_hash_and_a_signed_in_moderator(
    image: str,
) -> None:
    from chalicelib.services import consent, moderation

    minted = moderation.mint_link("mona", image, "http://x")
    token = token_of(minted.url)
    moderation.open_link(token, None, "192.0.2.7")
    moderation.open_link(token, "max", "198.51.100.9")
    anonymous, signed_in = sorted(views_of(image), key=lambda view: view["actor"] == "max")
    assert anonymous == {
        "actor": "link:mona",
        "link_id": minted.link_id,
        "address_hash": consent.address_hash("192.0.2.7"),
    }
    assert signed_in == {
        "actor": "max",
        "link_id": minted.link_id,
        "address_hash": consent.address_hash("198.51.100.9"),
    }
    assert "192.0.2.7" not in json.dumps(views_of(image))


def test_minting_records_the_link_id_and_its_expiry(image: str) -> None:
    from chalicelib.models.audit import AuditEntry
    from chalicelib.services import moderation

    minted = moderation.mint_link("mona", image, "http://x")
    (entry,) = [e for e in AuditEntry.scan() if e.action == "review_link"]
    assert entry.actor == "mona"
    assert entry.details.as_dict() == {
        "link_id": minted.link_id,
        "expires_at": minted.expires_at,
    }
    assert clock.iso(clock.now()) < minted.expires_at
