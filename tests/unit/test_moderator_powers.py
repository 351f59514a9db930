"""Whom moderators and operators may act on, and that their powers need an account in good
standing; over moto's in-process AWS, with a user pool holding the role groups."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

moto = pytest.importorskip("moto")

from chalicelib.adapters.aws import client  # noqa: E402
from chalicelib.models.users import UserProfile, erased_marker_key  # noqa: E402
from chalicelib.roles import ADMINS, GROUPS, MODERATORS  # noqa: E402
from chalicelib.services import (  # noqa: E402
    accounts,
    enforcement,
    erasure,
    identity,
    moderation,
    terms,
)
from chalicelib.services.errors import AccountRestricted, Forbidden, NotFound  # noqa: E402
from chalicelib.settings import get_settings  # noqa: E402
from tests.support.in_process_aws import aws, consented_profile, painted, scanned  # noqa: E402


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Moto's AWS with a user pool and its role groups, named in the settings the identity
    service reads."""
    with aws():
        terms.publish_terms("Terms for the moderator powers test.")
        idp = client("cognito-idp")
        pool_id = idp.create_user_pool(PoolName="objektify-test")["UserPool"]["Id"]
        for group in GROUPS:
            idp.create_group(UserPoolId=pool_id, GroupName=group)
        monkeypatch.setenv("OBJEKTIFY_COGNITO_USER_POOL_ID", pool_id)
        get_settings.cache_clear()
        try:
            yield pool_id
        finally:
            monkeypatch.delenv("OBJEKTIFY_COGNITO_USER_POOL_ID")
            get_settings.cache_clear()


def person(pool_id: str, name: str, *groups: str, consented: bool = True) -> identity.Caller:
    """A sign-in account in the pool (its `sub` is the user id), with a profile if it
    consented."""
    idp = client("cognito-idp")
    created = idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
    sub = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
    for group in groups:
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=name, GroupName=group)
    if consented:
        consented_profile(sub)
    return identity.Caller(sub, frozenset(groups))


def status_of(user_id: str) -> str:
    return enforcement.standing(user_id).status


def test_the_user_pool_says_who_holds_a_role(pool: str) -> None:
    moderator = person(pool, "mona", MODERATORS)
    member = identity.find_member(moderator.user_id)
    assert member is not None and member.groups == frozenset({MODERATORS})
    assert identity.find_member("00000000-0000-4000-8000-00000000dead") is None
    assert identity.find_member('x" or sub = "y') is None  # no filter injection


def test_a_banned_or_suspended_moderator_keeps_the_group_but_not_its_powers(pool: str) -> None:
    admin = person(pool, "ada", ADMINS)
    for action in ("ban", "suspend"):
        moderator = person(pool, f"mod-{action}", MODERATORS)
        enforcement.restrict(admin, moderator.user_id, action, "abuse of powers", None)
        with accounts.request_scope():
            with pytest.raises(AccountRestricted):
                identity.require_moderator(moderator)
            assert identity.acts_as_moderator(moderator) is False


def test_a_restricted_operator_cannot_operate(pool: str) -> None:
    admin = person(pool, "ops", ADMINS)
    profile = UserProfile.get(admin.user_id)
    profile.update(actions=[UserProfile.status.set("banned")])
    with accounts.request_scope():
        with pytest.raises(AccountRestricted):
            identity.require_admin(admin)
        with pytest.raises(AccountRestricted):
            identity.require_moderator(admin)


def test_a_moderator_cannot_restore_or_restrict_their_own_account(pool: str) -> None:
    moderator = person(pool, "self", MODERATORS)
    for action in ("restore", "ban", "suspend"):
        with pytest.raises(Forbidden):
            enforcement.restrict(moderator, moderator.user_id, action, "myself", None)
    assert status_of(moderator.user_id) == "active"


def test_a_moderator_restricts_plain_users_only(pool: str) -> None:
    moderator = person(pool, "mod", MODERATORS)
    other_moderator = person(pool, "mod2", MODERATORS)
    admin = person(pool, "root", ADMINS)
    user = person(pool, "pat")
    assert enforcement.restrict(moderator, user.user_id, "ban", "spam", None).status == "banned"
    for target in (other_moderator, admin):
        with pytest.raises(Forbidden):
            enforcement.restrict(moderator, target.user_id, "suspend", "rivalry", None)
        assert status_of(target.user_id) == "active"


def test_an_operator_restricts_moderators_but_not_operators(pool: str) -> None:
    admin = person(pool, "root", ADMINS)
    other_admin = person(pool, "root2", ADMINS)
    moderator = person(pool, "mod", MODERATORS)
    assert enforcement.restrict(admin, moderator.user_id, "ban", "abuse", None).status == "banned"
    assert enforcement.restrict(admin, moderator.user_id, "restore", "ok", None).status == "active"
    with pytest.raises(Forbidden):
        enforcement.restrict(admin, other_admin.user_id, "ban", "coup", None)
    assert status_of(other_admin.user_id) == "active"


def test_restricting_an_unknown_or_erased_user_is_not_found_and_creates_nothing(pool: str) -> None:
    moderator = person(pool, "mod", MODERATORS)
    unknown = "00000000-0000-4000-8000-00000000beef"
    with pytest.raises(NotFound):
        enforcement.restrict(moderator, unknown, "ban", "who?", None)
    assert UserProfile.count(unknown) == 0
    erased = person(pool, "gone")
    erasure.request_erasure(erased.user_id)
    with pytest.raises(NotFound):
        enforcement.restrict(moderator, erased.user_id, "restore", "back?", None)
    erasure.finish_erasure(erased.user_id)
    UserProfile(erased_marker_key(erased.user_id)).delete()  # the marker's day is over
    with pytest.raises(NotFound):
        enforcement.restrict(moderator, erased.user_id, "ban", "still gone", None)
    assert UserProfile.count(erased.user_id) == 0


def test_a_signed_up_user_without_a_profile_can_still_be_restricted(pool: str) -> None:
    moderator = person(pool, "mod", MODERATORS)
    newcomer = person(pool, "new", consented=False)
    answer = enforcement.restrict(moderator, newcomer.user_id, "ban", "spam sign-up", None)
    assert answer.status == "banned"


def test_without_a_user_pool_everyone_is_a_plain_user() -> None:
    with aws():
        terms.publish_terms("Terms for the no-pool test.")
        moderator = identity.Caller(consented_profile("moderator-x"), frozenset({MODERATORS}))
        target = consented_profile("user-x")
        assert identity.find_member(target) is None
        assert enforcement.restrict(moderator, target, "suspend", "x", None).status == "suspended"
        with pytest.raises(NotFound):
            enforcement.restrict(moderator, "nobody-x", "ban", "x", None)


def test_nobody_decides_on_their_own_image(pool: str) -> None:
    moderator = person(pool, "mod", MODERATORS)
    image_id = painted(moderator.user_id)
    assert scanned(image_id, "review") == "in_review"
    for action in ("approve", "remove"):
        with pytest.raises(Forbidden):
            moderation.decide(moderator.user_id, image_id, action, "looks fine to me", None)
    other = person(pool, "mod2", MODERATORS)
    assert moderation.decide(other.user_id, image_id, "approve", "fine", None).status == (
        "published"
    )
