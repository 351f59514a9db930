"""A moderation-queue page costs the same DynamoDB requests however many of its items carry
notices: the images name their open notices, and the page reads them all in one BatchGetItem
(not a Query per noticed item); over moto's in-process AWS."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

pytest.importorskip("moto")

from chalicelib.models.generations import Generation
from chalicelib.services import moderation, notices, terms
from chalicelib.settings import get_settings
from tests.support.in_process_aws import aws, consented_profile, painted, scanned
from tests.unit.test_idempotent_replay import aws_calls

MODERATOR = "moderator-1"


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The keys a notice's status URL is signed with and a notifier's address hashed with."""
    monkeypatch.setenv("OBJEKTIFY_SIGNING_KEYS", "queue-cost-key")
    monkeypatch.setenv("OBJEKTIFY_ADDRESS_HASH_KEY", "address-key")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _published(creator: str, prompt: str) -> str:
    image_id = painted(creator, prompt)
    scanned(image_id, "publish")
    return image_id


def _noticed(image_id: str, n: int, category: str = "copyright") -> list[str]:
    filed = [
        notices.file_notice(
            image_id, category, f"notice {i}", "A Notifier", "n@example.com", f"10.0.{i}.{n}"
        )
        for i in range(n)
    ]
    return [f.id for f in filed]


def _page_requests() -> tuple[Counter[str], list[moderation.QueueItem]]:
    with aws_calls() as calls:
        items, _ = moderation.queue(MODERATOR, 24, None)
    return Counter(op for op, _ in calls), items


def test_a_queue_page_costs_the_same_requests_with_one_noticed_item_or_many() -> None:
    with aws():
        terms.publish_terms("Terms for the queue cost test.")
        creators = [consented_profile(f"creator-{i}") for i in range(5)]
        images = [_published(c, f"a lighthouse {i}") for i, c in enumerate(creators)]
        first = _noticed(images[0], 2)
        one, shown = _page_requests()
        assert [n["id"] for n in shown[0].notices] == first  # oldest first
        for image_id in images[1:]:
            _noticed(image_id, 1, "privacy")
        many, shown = _page_requests()
        assert len(shown) == 5 and all(item.notices for item in shown)
        assert many == one
        assert many["BatchGetItem"] == 1 and "Query" in many and many["Query"] == 1


def test_a_decision_forgets_the_notice_ids_and_answers_the_notices() -> None:
    with aws():
        terms.publish_terms("Terms for the queue cost test.")
        image_id = _published(consented_profile("creator"), "a harbour")
        _noticed(image_id, 2)
        assert len(Generation.get(image_id).open_notice_ids or ()) == 2
        moderation.decide(MODERATOR, image_id, "approve", "kept up", None)
        image = Generation.get(image_id, consistent_read=True)
        assert image.open_notice_ids is None and image.notice_count is None
        assert notices.open_on(image_id) == []


def test_an_image_noticed_before_it_named_the_ids_still_lists_its_notices() -> None:
    with aws():
        terms.publish_terms("Terms for the queue cost test.")
        image_id = _published(consented_profile("creator"), "a mill")
        filed = _noticed(image_id, 1)
        Generation(image_id).update(actions=[Generation.open_notice_ids.remove()])
        items, _ = moderation.queue(MODERATOR, 24, None)
        assert [n["id"] for item in items for n in item.notices] == filed
