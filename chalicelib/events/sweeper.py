"""The sweeper: generations stuck past their deadline are finished, so nobody waits forever.
The service is imported when the schedule fires, as in the other event handlers."""

from __future__ import annotations

from chalice.app import Blueprint, CloudWatchEvent, Rate

from chalicelib.observability import count, flush, logger

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def sweep_stale_generations(event: CloudWatchEvent) -> None:
    from chalicelib.services import sweeper

    finished = sweeper.sweep_stale()
    logger.info("sweep", extra={"finished": finished})
    count("GenerationsSwept", finished)
    flush()
