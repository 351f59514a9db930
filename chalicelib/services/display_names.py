"""Display names: a signed-in user's public name, unique after the prompt screen's
normalisation and screened by its terms (chalicelib/models/names.py holds the design)."""

from __future__ import annotations

from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError, UpdateError

from chalicelib.adapters import clock
from chalicelib.models.base import refused_by_condition, transaction
from chalicelib.models.gallery import GalleryEntry, creator_partition
from chalicelib.models.names import NameClaim
from chalicelib.models.users import UserProfile
from chalicelib.services import accounts
from chalicelib.services.errors import Conflict, InvalidRequest, NameTaken

MIN_LENGTH, MAX_LENGTH = 3, 30
FIELD = "display_name"


def current(user_id: str) -> str | None:
    """The user's display name now (one consistent GetItem of the profile's name alone): what
    a newly published image's gallery entries carry."""
    try:
        profile = UserProfile.get(user_id, consistent_read=True, attributes_to_get=["display_name"])
    except DoesNotExist:
        return None
    return profile.display_name


def name_key(name: str) -> str:
    """The name as the prompt screen reads it, spaces dropped: its uniqueness key."""
    from chalicelib.services.prompt_policy import normalise

    return normalise(name).replace(" ", "")


def claim_key(name: str) -> str:
    """The name's claim key, or a 400 naming the field: screened like a prompt."""
    from chalicelib.services.prompt_policy import refusal

    key = name_key(name)
    if not key:
        raise InvalidRequest(
            "Some fields are not valid.", details={FIELD: "must contain letters or digits"}
        )
    refused = refusal(name, "display name")
    if refused is not None:
        message, category = refused
        raise InvalidRequest(message, details={FIELD: message, "category": category})
    return key


def set_name(user_id: str, name: str | None) -> UserProfile:
    """Set (or with None clear) the caller's display name, claim and release in one
    transaction; the creator's gallery entries then show the new name."""
    from chalicelib.services import consent

    # A public name is a public act: like a generation, only from a consented account in
    # good standing.
    profile = accounts.load_profile(user_id, fresh=True)
    accounts.require_unrestricted(profile)
    consent.require_consent(profile)
    assert profile is not None  # consent implies a profile
    old_key = profile.display_name_key
    new_key = claim_key(name) if name is not None else None
    now = clock.now()
    unchanged = (
        UserProfile.display_name_key == old_key
        if old_key is not None
        else UserProfile.display_name_key.does_not_exist()
    )
    actions = (
        [UserProfile.display_name.set(name), UserProfile.display_name_key.set(new_key)]
        if name is not None and new_key is not None
        else [UserProfile.display_name.remove(), UserProfile.display_name_key.remove()]
    )
    claim = NameClaim(new_key, user_id=user_id, claimed_at=now) if new_key else None
    try:
        with transaction() as tx:
            if claim is not None and new_key != old_key:
                tx.save(claim, condition=NameClaim.name_key.does_not_exist())
            if old_key is not None and new_key != old_key:
                tx.delete(NameClaim(old_key), condition=NameClaim.user_id == user_id)
            tx.update(
                profile,
                [*actions, UserProfile.updated_at.set(now)],
                condition=UserProfile.user_id.exists() & unchanged,
            )
    except TransactWriteError as exc:
        if claim is not None and tx.refused(exc, claim):
            raise NameTaken() from exc
        if refused_by_condition(exc):
            raise Conflict("The name changed meanwhile; try again.") from exc
        raise
    rename_gallery_entries(user_id, name)
    return accounts.load_profile(user_id, fresh=True) or profile


def rename_gallery_entries(user_id: str, name: str | None) -> None:
    """The creator's published entries (creator page and feed) show `name`: the creator's
    partition queried (one request per 1 MB of entries), then an UpdateItem per entry and one
    per its feed twin. Only entries that still exist are rewritten (a removal meanwhile is not
    brought back). Sending the same name again runs this again, which repairs entries a
    crash or a publish racing the rename left with the old name."""
    from chalicelib.models.gallery import feed_partition
    from chalicelib.settings import get_settings

    shards = get_settings().feed_shards
    field = GalleryEntry.creator_name
    action = field.set(name) if name is not None else field.remove()
    for entry in GalleryEntry.query(creator_partition(user_id), consistent_read=True):
        for pk in (entry.pk, feed_partition(entry.image_id, shards)):
            try:
                GalleryEntry(pk, entry.sk).update(
                    actions=[action], condition=GalleryEntry.pk.exists()
                )
            except UpdateError as exc:  # a removed entry stays removed
                if not refused_by_condition(exc):
                    raise


def release(user_id: str) -> None:
    """Erasure: the name leaves the profile and its claim is freed for others."""
    try:
        profile = UserProfile.get(user_id, consistent_read=True)
    except DoesNotExist:
        return
    if profile.display_name_key is None:
        return
    try:
        NameClaim(profile.display_name_key).delete(condition=NameClaim.user_id == user_id)
    except DeleteError as exc:  # already released, or held by someone else now
        if not refused_by_condition(exc):
            raise
    profile.update(
        actions=[UserProfile.display_name.remove(), UserProfile.display_name_key.remove()]
    )
