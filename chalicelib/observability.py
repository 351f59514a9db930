"""Powertools logger and metrics shared by routes and event handlers.

Metrics are created on first use (Powertools' metrics module costs ~13 ms at import, which the
cold start of every function would pay before serving anything). Tracer is deliberately
absent: aws-xray-sdk costs ~400 ms at import.
"""

from __future__ import annotations

import threading
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


# Powertools keeps one metric set per process. In Lambda a container serves one request at a
# time; the local API server serves each request on a thread of its own, and a flush that met
# another thread's flush half-way raised (an empty set "must contain at least one metric"),
# answering a 500 from outside the app's error handling. One lock makes each step whole.
_emitting = threading.Lock()


def measure(name: str, unit: str, value: float) -> None:
    with _emitting:
        metrics().add_metric(name=name, unit=unit, value=value)


def count(name: str, value: float = 1) -> None:
    measure(name, "Count", value)


def flush() -> None:
    with _emitting:
        metrics().flush_metrics(raise_on_empty_metrics=False)
