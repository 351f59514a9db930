"""Reports of published images; enough distinct reports take an image out of public view."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from chalicelib.adapters import clock
from chalicelib.models.base import refused_by_condition, transaction
from chalicelib.models.generations import PUBLISHED, Generation
from chalicelib.models.reports import REASONS, Report
from chalicelib.observability import logger
from chalicelib.services import accounts, consent, gallery, lifecycle
from chalicelib.services.errors import InvalidRequest
from chalicelib.settings import get_settings


def file_report(reporter_id: str, image_id: str, reason: str, note: str | None) -> bool:
    """Record a report; True if it counted (a user's second report of an image does not)."""
    profile = accounts.load_profile(reporter_id)
    accounts.require_unrestricted(profile)
    consent.require_consent(profile)  # reporting is acting under the terms, like creating
    if reason not in REASONS:
        raise InvalidRequest(details={"reason": f"one of {', '.join(REASONS)}"})
    image = gallery.published(image_id)
    report = Report(image_id, reporter_id, reason=reason, note=note, created_at=clock.now())
    # Every report reaches a moderator at once: the image joins the queue, ranked by the most
    # severe reason it has, and stays public until the threshold or a decision.
    worst = lifecycle.most_severe(
        {reason, *(image.report_reasons or []), *(image.notice_categories or [])}
    )
    try:
        with transaction() as tx:
            tx.save(report, condition=Report.reporter_id.does_not_exist())
            tx.update(
                image,
                actions=[
                    Generation.report_count.add(1),
                    Generation.report_reasons.add({reason}),
                    *lifecycle.joins_queue(image, worst),
                ],
                condition=Generation.status == PUBLISHED,
            )
    except TransactWriteError as exc:
        if not refused_by_condition(exc):
            raise
        return False  # already reported by this user, or no longer public
    image.refresh(consistent_read=True)
    threshold = get_settings().report_threshold
    if image.status == PUBLISHED and int(image.report_count or 0) >= threshold:
        reasons = {"reasons": sorted(image.report_reasons or [])}
        if lifecycle.take_into_review(image, f"{int(image.report_count)} reports", reasons):
            logger.info("reported image taken into review", extra={"image_id": image_id})
    return True
