"""Reports of published images; enough distinct reports take an image out of public view."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from chalicelib.adapters import clock
from chalicelib.models.base import refused_by_condition, transaction
from chalicelib.models.generations import PUBLISHED, Generation
from chalicelib.models.reports import REASONS, Report
from chalicelib.observability import logger
from chalicelib.services import accounts, audit, gallery, moderation
from chalicelib.services.errors import InvalidRequest
from chalicelib.settings import get_settings


def file_report(reporter_id: str, image_id: str, reason: str, note: str | None) -> bool:
    """Record a report; True if it counted (a user's second report of an image does not)."""
    accounts.require_unrestricted(accounts.load_profile(reporter_id))
    if reason not in REASONS:
        raise InvalidRequest(details={"reason": f"one of {', '.join(REASONS)}"})
    image = gallery.published(image_id)
    report = Report(image_id, reporter_id, reason=reason, note=note, created_at=clock.now())
    try:
        with transaction() as tx:
            tx.save(report, condition=Report.reporter_id.does_not_exist())
            tx.update(
                image,
                actions=[Generation.report_count.add(1), Generation.report_reasons.add({reason})],
                condition=Generation.status == PUBLISHED,
            )
    except TransactWriteError as exc:
        if not refused_by_condition(exc):
            raise
        return False  # already reported by this user, or no longer public
    image.refresh(consistent_read=True)
    over_threshold = int(image.report_count or 0) >= get_settings().report_threshold
    if over_threshold and moderation.send_to_review(image, None, (PUBLISHED,)):
        logger.info("reported image taken into review", extra={"image_id": image_id})
        audit.record(
            audit.Event(
                "policy",
                "auto_review",
                "image",
                image_id,
                f"{int(image.report_count)} reports",
                {"reasons": sorted(image.report_reasons or [])},
            )
        )
    return True
