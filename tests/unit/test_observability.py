"""Metrics from many threads at once (the local API server serves each request on a thread):
no step may meet another half-way. A flush that did raised inside the HTTP middleware, and the
client got a 500 with Chalice's own body."""

from __future__ import annotations

import threading
import warnings

import pytest

from chalicelib import observability


def test_requests_on_many_threads_count_and_flush_without_an_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    failures: list[str] = []

    def serve_requests() -> None:
        for _ in range(1500):
            try:
                observability.count("Requests")
                observability.measure("Latency", "Milliseconds", 1.0)
                observability.flush()
            except Exception as error:  # what the middleware would have let escape
                failures.append(repr(error))
                return

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no application metrics to publish"
        threads = [threading.Thread(target=serve_requests) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    capsys.readouterr()  # the metrics themselves, printed as EMF lines
    assert failures == []
