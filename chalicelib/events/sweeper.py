"""The sweeper: generations stuck past their deadline are finished, so nobody waits forever."""

from __future__ import annotations

from chalice.app import Blueprint, CloudWatchEvent, Rate

from chalicelib.observability import count, flush, logger
from chalicelib.services import sweeper

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def sweep_stale_generations(event: CloudWatchEvent) -> None:
    finished = sweeper.sweep_stale()
    logger.info("sweep", extra={"finished": finished})
    count("GenerationsSwept", finished)
    flush()
