"""Personal API keys against in-process AWS: made, found in one read, scoped, revoked at once,
capped, noted when used at most once a minute, and gone with the account."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.adapters import clock
from chalicelib.models.api_keys import ApiKeyCredential, credential_pk
from chalicelib.models.users import SUSPENDED, UserProfile
from chalicelib.services import api_keys, identity
from chalicelib.services.errors import (
    AccountRestricted,
    ConsentRequired,
    Forbidden,
    NotFound,
    TooManyApiKeys,
    Unauthorized,
)
from chalicelib.settings import get_settings
from tests.support.in_process_aws import aws, consented_profile

ALICE, BOB = "user-alice", "user-bob"
POST_GENERATIONS = ("POST", "/generations")
GET_ME = ("GET", "/me")


@pytest.fixture(autouse=True)
def world() -> Iterator[None]:
    with aws():
        consented_profile(ALICE)
        consented_profile(BOB)
        yield


def bearer(key: str) -> str:
    return f"Bearer {key}"


def test_a_key_is_shown_once_and_only_its_hash_is_kept() -> None:
    made = api_keys.create(ALICE, "laptop script", ["generate", "read"])
    assert made.key.startswith("objk_") and len(made.key) == 48
    assert made.prefix == made.key[:13]
    holder = api_keys.verify(made.key)
    assert (holder.user_id, holder.key_id) == (ALICE, made.key_id)
    assert holder.scopes == {"generate", "read"}
    stored = ApiKeyCredential.get(credential_pk(api_keys.key_hash(made.key)), "credential")
    assert made.key not in str(stored.attribute_values)
    (shown,) = api_keys.listed(ALICE)
    assert set(shown) == {"id", "name", "prefix", "scopes", "created_at", "last_used_at"}
    assert made.key not in str(shown) and api_keys.key_hash(made.key) not in str(shown)
    assert api_keys.listed(BOB) == []


@pytest.mark.parametrize(
    "sent",
    ["objk_", "objk_short", "objk_" + "A" * 43, "objk_" + "A" * 44, "objk_" + "é" * 43],
)
def test_made_up_keys_are_unauthorized(sent: str) -> None:
    with pytest.raises(Unauthorized):
        api_keys.verify(sent)


def test_a_key_with_one_character_changed_is_unauthorized() -> None:
    key = api_keys.create(ALICE, "k", ["read"]).key
    changed = key[:-1] + ("A" if key[-1] != "A" else "B")
    with pytest.raises(Unauthorized):
        api_keys.verify(changed)


def test_a_revoked_key_is_refused_at_once_and_revoking_again_is_404() -> None:
    made = api_keys.create(ALICE, "k", ["read"])
    api_keys.revoke(ALICE, made.key_id)
    with pytest.raises(Unauthorized):
        api_keys.verify(made.key)
    with pytest.raises(NotFound):
        api_keys.revoke(ALICE, made.key_id)
    assert api_keys.listed(ALICE) == []


def test_another_users_key_cannot_be_revoked_by_id() -> None:
    made = api_keys.create(ALICE, "k", ["read"])
    for key_id in (made.key_id, "../" + made.key_id, "not-an-id"):
        with pytest.raises(NotFound):
            api_keys.revoke(BOB, key_id)
    assert api_keys.verify(made.key).user_id == ALICE


def test_keys_per_user_are_capped_and_a_revocation_frees_a_place() -> None:
    limit = get_settings().api_key_limit
    made = [api_keys.create(ALICE, f"k{n}", ["read"]) for n in range(limit)]
    with pytest.raises(TooManyApiKeys):
        api_keys.create(ALICE, "one too many", ["read"])
    assert len(api_keys.listed(ALICE)) == limit
    api_keys.revoke(ALICE, made[0].key_id)
    api_keys.create(ALICE, "again", ["read"])
    api_keys.create(BOB, "bob's own cap", ["read"])


def test_only_a_consented_account_in_good_standing_makes_keys() -> None:
    with pytest.raises(ConsentRequired):
        api_keys.create("user-new", "k", ["read"])
    profile = UserProfile.get(ALICE)
    profile.update(actions=[UserProfile.status.set(SUSPENDED)])
    with pytest.raises(AccountRestricted):
        api_keys.create(ALICE, "k", ["read"])
    assert api_keys.listed(ALICE) == []


def test_the_last_use_is_written_at_most_once_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    made = api_keys.create(ALICE, "k", ["read"])
    start = clock.now()
    writes: list[Any] = []
    real_update = ApiKeyCredential.update

    def counted(self: ApiKeyCredential, *args: Any, **kwargs: Any) -> Any:
        writes.append(kwargs)
        return real_update(self, *args, **kwargs)

    monkeypatch.setattr(ApiKeyCredential, "update", counted)
    for seconds in (0, 1, 30, 59):
        monkeypatch.setattr(clock, "now", lambda s=seconds: start + timedelta(seconds=s))
        api_keys.verify(made.key)
    assert len(writes) == 1
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(seconds=61))
    api_keys.verify(made.key)
    assert len(writes) == 2
    (shown,) = api_keys.listed(ALICE)
    assert shown["last_used_at"] == clock.iso(start + timedelta(seconds=61))


def test_noting_a_use_never_brings_a_revoked_key_back() -> None:
    made = api_keys.create(ALICE, "k", ["read"])
    seen = ApiKeyCredential.get(credential_pk(api_keys.key_hash(made.key)), "credential")
    api_keys.revoke(ALICE, made.key_id)
    api_keys._note_use(seen)  # a request that read the key just before the revocation
    with pytest.raises(Unauthorized):
        api_keys.verify(made.key)


def test_a_key_acts_as_its_owner_within_its_scopes_only() -> None:
    reader = api_keys.create(ALICE, "r", ["read"]).key
    maker = api_keys.create(ALICE, "g", ["generate"]).key
    caller = identity.authenticate(bearer(reader), GET_ME)
    assert (caller.user_id, caller.groups, caller.scopes) == (ALICE, frozenset(), {"read"})
    assert identity.authenticate(bearer(maker), POST_GENERATIONS).user_id == ALICE
    with pytest.raises(Forbidden):
        identity.authenticate(bearer(reader), POST_GENERATIONS)
    with pytest.raises(Forbidden):
        identity.authenticate(bearer(maker), GET_ME)
    for route in (("POST", "/me/api-keys"), ("DELETE", "/me"), ("POST", "/me/export")):
        with pytest.raises(Forbidden):
            identity.authenticate(bearer(reader), route)


@pytest.mark.parametrize(
    "route",
    [
        ("GET", "/moderation/queue"),
        ("POST", "/moderation/images/{image_id}/decision"),
        ("GET", "/admin/flags"),
        ("PUT", "/admin/flags/{name}"),
    ],
)
def test_a_key_never_reaches_moderator_or_operator_routes(route: tuple[str, str]) -> None:
    key = api_keys.create(ALICE, "everything", ["generate", "read"]).key
    with pytest.raises(Forbidden):
        identity.authenticate(bearer(key), route)


def test_where_no_route_is_named_a_key_is_no_credential() -> None:
    key = api_keys.create(ALICE, "k", ["generate", "read"]).key
    with pytest.raises(Unauthorized):
        identity.authenticate(bearer(key))
    assert identity.identify(bearer(key)) is None


def test_every_route_a_key_may_call_is_a_route_the_app_registers() -> None:
    from app import app

    registered = {(m, path) for path, entries in app.routes.items() for m in entries}
    assert set(identity.KEY_ROUTES) <= registered
    assert set(identity.KEY_ROUTES.values()) <= set(api_keys.SCOPES)
    assert not any("/moderation" in p or "/admin" in p for _, p in identity.KEY_ROUTES)


def test_erasure_takes_every_key_and_the_count() -> None:
    keys = [api_keys.create(ALICE, f"k{n}", ["read"]).key for n in range(3)]
    bobs = api_keys.create(BOB, "k", ["read"]).key
    api_keys.remove_all(ALICE)
    for key in keys:
        with pytest.raises(Unauthorized):
            api_keys.verify(key)
    assert list(ApiKeyCredential.scan(ApiKeyCredential.user_id == ALICE)) == []
    assert api_keys.listed(ALICE) == []
    api_keys.remove_all(ALICE)  # again is harmless
    assert api_keys.verify(bobs).user_id == BOB


def test_a_key_is_verified_with_one_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each request with a key costs one GetItem; its use is written once a minute at most."""
    key = api_keys.create(ALICE, "k", ["read"]).key
    calls: list[str] = []
    dynamodb = ApiKeyCredential._get_connection().connection.client

    def count(model: Any, **_: Any) -> None:
        calls.append(model.name)

    dynamodb.meta.events.register("before-call.dynamodb", count)
    try:
        api_keys.verify(key)
        assert calls == ["GetItem", "UpdateItem"]  # the first use is noted
        calls.clear()
        for _ in range(5):
            api_keys.verify(key)
        assert calls == ["GetItem"] * 5
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb", count)
