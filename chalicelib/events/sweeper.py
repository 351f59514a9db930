"""The sweeper: generations stuck past their deadline are finished, so nobody waits forever."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import Blueprint, CloudWatchEvent, Rate

from chalicelib.observability import logger, metrics
from chalicelib.services import generation

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def sweep_stale_generations(event: CloudWatchEvent) -> None:
    finished = generation.sweep_stale()
    logger.info("sweep", extra={"finished": finished})
    metrics.add_metric(name="GenerationsSwept", unit=MetricUnit.Count, value=finished)
    metrics.flush_metrics(raise_on_empty_metrics=False)
