"""Likes: one record per (user, image), and the count kept where every read finds it.

A like costs two DynamoDB requests: a consistent GetItem of the image (is it public, and
where are its entries) and one TransactWriteItems that puts the like record on the condition
that there is none yet, and ADDs one to the count on the generation, its feed entry, its
creator-page entry and its three rank items, each on the condition that it exists (the
generation: that it is still public). Liking twice fails the record's condition and changes
nothing; an image withdrawn meanwhile fails its own condition: 404. An unlike is the same
with the record deleted on the condition that it exists, and ADD -1.

Why counts on the entries and no sharded counters: a page of any order (new, top, search, a
creator's) then shows exact counts with no read per item, and a like is one transaction. The
writes are spread: the like record over users' partitions, entries and rank items over the
feed shards (and days, weeks), so no partition takes every like. What stays hot is one
image's own items: a single image takes up to ≈500 likes/s (1,000 WCU/s per item, a
transactional write costs two) before likes of it are throttled or conflict (the API answers
503 with Retry-After; the client retries). docs/discovery.md says what we would change
beyond that (sharded counters summed into the entries by the stream).
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.adapters import clock
from chalicelib.models.base import transaction
from chalicelib.models.gallery import GalleryEntry, LikeRecord, RankEntry, like_partition
from chalicelib.models.generations import PUBLISHED, Generation
from chalicelib.services import gallery, publishing


def _counted(tx: Any, generation: Generation, delta: int) -> None:
    """ADD `delta` to every count of the image, each write on the condition its item exists."""
    public = (Generation.status == PUBLISHED) & Generation.withheld.does_not_exist()
    tx.update(generation, actions=[Generation.likes.add(delta)], condition=public)
    for item in publishing.entries(generation, generation.published_at):
        if isinstance(item, RankEntry):
            tx.update(
                item, actions=[RankEntry.rank_likes.add(delta)], condition=RankEntry.pk.exists()
            )
        else:
            tx.update(
                item, actions=[GalleryEntry.likes.add(delta)], condition=GalleryEntry.pk.exists()
            )


def _may_act(user_id: str) -> None:
    """Like reporting: acting under the terms, by a consented account in good standing (the
    profile is the caller's, read once per request already)."""
    from chalicelib.services import accounts, consent

    profile = accounts.load_profile(user_id)
    accounts.require_unrestricted(profile)
    consent.require_consent(profile)


def like(image_id: str, user_id: str) -> None:
    """The user likes a public image (NotFound otherwise); a second like changes nothing."""
    _may_act(user_id)
    generation = gallery.published(image_id)
    record = LikeRecord(like_partition(user_id), image_id, liked_at=clock.now())
    try:
        with transaction() as tx:
            tx.save(record, condition=LikeRecord.pk.does_not_exist())
            _counted(tx, generation, 1)
    except TransactWriteError as exc:
        if tx.refused(exc, record):
            return  # liked already
        _not_found_if_refused(exc)


def unlike(image_id: str, user_id: str) -> None:
    """The user takes back a like of a public image; no like to take back changes nothing."""
    _may_act(user_id)
    generation = gallery.published(image_id)
    record = LikeRecord(like_partition(user_id), image_id)
    try:
        with transaction() as tx:
            tx.delete(record, condition=LikeRecord.pk.exists())
            _counted(tx, generation, -1)
    except TransactWriteError as exc:
        if tx.refused(exc, record):
            return  # not liked
        _not_found_if_refused(exc)


def _not_found_if_refused(exc: TransactWriteError) -> None:
    from chalicelib.models.base import refused_by_condition
    from chalicelib.services.errors import NotFound

    if refused_by_condition(exc):
        raise NotFound() from exc  # withdrawn between the read and the write
    raise exc


def liked_by(image_id: str, user_id: str) -> bool:
    try:
        LikeRecord.get(like_partition(user_id), image_id, consistent_read=True)
    except DoesNotExist:
        return False
    return True


def of_user(user_id: str) -> list[LikeRecord]:
    """Every like the user has given (export, erasure)."""
    return list(LikeRecord.query(like_partition(user_id), consistent_read=True))


def forget_user(user_id: str) -> None:
    """Erasure: each like of the user is taken back (the counts go down with it, where the
    image is still public); the records go whatever the image's state. Safe to run again."""
    from chalicelib.models.generations import find

    for record in of_user(user_id):
        generation = find(record.sk)
        try:
            if generation is None or generation.published_at is None:
                raise DoesNotExist()
            with transaction() as tx:
                tx.delete(record, condition=LikeRecord.pk.exists())
                _counted(tx, generation, -1)
        except (DoesNotExist, TransactWriteError):
            record.delete()  # not public (or liked twice over a race): the record alone
