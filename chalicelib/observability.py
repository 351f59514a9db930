"""Powertools logger and metrics shared by routes and event handlers.

Metrics are created on first use (Powertools' metrics module costs ~13 ms at import, which the
cold start of every function would pay before serving anything). Tracer is deliberately
absent: aws-xray-sdk costs ~400 ms at import.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

SERVICE = "objektify"

logger = Logger(service=SERVICE)


@lru_cache(maxsize=1)
def metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace="Objektify", service=SERVICE)


def count(name: str, value: float = 1) -> None:
    metrics().add_metric(name=name, unit="Count", value=value)


def flush() -> None:
    metrics().flush_metrics(raise_on_empty_metrics=False)
