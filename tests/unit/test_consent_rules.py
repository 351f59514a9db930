from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.models.users import UserProfile
from chalicelib.services import accounts, consent
from chalicelib.services.errors import AccountRestricted
from chalicelib.settings import get_settings


@pytest.mark.parametrize(
    "agent, family",
    [
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36", "Chrome"),
        (
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120 Safari/537.36 Edg/120",
            "Edge",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) AppleWebKit/605.1.15 Version/17.0 Safari/604.1",
            "Safari",
        ),
        ("curl/8.4.0", "curl"),
        ("python-requests/2.32", "python"),
        ("SomethingElse/1.0", "other"),
        (None, None),
    ],
)
def test_only_the_browser_family_is_kept(agent: str | None, family: str | None) -> None:
    assert consent.user_agent_family(agent) == family


def test_address_hash_is_keyed_and_not_the_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBJEKTIFY_ADDRESS_HASH_KEY", "k1")
    get_settings.cache_clear()
    first = consent.address_hash("203.0.113.9")
    monkeypatch.setenv("OBJEKTIFY_ADDRESS_HASH_KEY", "k2")
    get_settings.cache_clear()
    second = consent.address_hash("203.0.113.9")
    get_settings.cache_clear()
    assert first and second and first != second
    assert "203.0.113.9" not in first
    assert len(first) == 64


def profile(status: str, until: datetime | None = None) -> UserProfile:
    now = datetime.now(UTC)
    return UserProfile("u1", status=status, suspended_until=until, created_at=now, updated_at=now)


def test_a_suspension_ends_at_its_end_time() -> None:
    now = datetime.now(UTC)
    assert (
        accounts.effective_status(profile("suspended", now + timedelta(hours=1)), now)
        == "suspended"
    )
    assert (
        accounts.effective_status(profile("suspended", now - timedelta(seconds=1)), now) == "active"
    )
    assert accounts.effective_status(profile("suspended"), now) == "suspended"
    assert accounts.effective_status(profile("banned"), now) == "banned"
    assert accounts.effective_status(None, now) == "active"


def test_restricted_accounts_are_refused_with_their_status() -> None:
    with pytest.raises(AccountRestricted) as refused:
        accounts.require_unrestricted(profile("banned"))
    assert refused.value.details["status"] == "banned"
    accounts.require_unrestricted(profile("active"))
