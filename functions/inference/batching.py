"""Micro-batching: invocations that can share one pipeline call wait a moment for company.

The model server takes several invocations at once (SageMaker sends up to the endpoint config's
`MaxConcurrentInvocationsPerInstance`); each hands its request to the `Batcher` and waits. One
painter thread takes the oldest waiting request, gathers the others with the same `batch_key`
(size, steps, guidance, scheduler) that arrive within the window after it, up to the batch cap,
and paints them in one pipeline call. Requests of another key wait for a later call, oldest first. A
request that waited past the window while the painter was busy goes at once, with whatever
company the queue holds by then: under load, batches fill without waiting.

Settings (the container's environment):
- `OBJEKTIFY_BATCH_WINDOW_MS` (default 25): how long the oldest request waits for company.
- `OBJEKTIFY_MAX_BATCH` (default 4): the most requests in one call; sized to the GPU's memory
  (activations grow with the batch) and no higher than the endpoint's concurrency per instance,
  which is how many requests can be waiting here at all.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from functions.inference.pipeline import Request

WINDOW_ENV = "OBJEKTIFY_BATCH_WINDOW_MS"
MAX_BATCH_ENV = "OBJEKTIFY_MAX_BATCH"
DEFAULT_WINDOW_MS = 25
DEFAULT_MAX_BATCH = 4

PaintBatch = Callable[[list[Request]], list[bytes]]


@dataclass(frozen=True)
class Settings:
    window_ms: int = DEFAULT_WINDOW_MS
    max_batch: int = DEFAULT_MAX_BATCH

    @classmethod
    def from_env(cls) -> Settings:
        """The batching settings from the container's environment, checked."""
        window = _whole(WINDOW_ENV, DEFAULT_WINDOW_MS, low=0)
        return cls(window_ms=window, max_batch=_whole(MAX_BATCH_ENV, DEFAULT_MAX_BATCH, low=1))


def _whole(name: str, default: int, low: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None
    if value < low:
        raise SystemExit(f"{name} must be at least {low}")
    return value


@dataclass
class _Waiter:
    request: Request
    arrived: float
    done: threading.Event = field(default_factory=threading.Event)
    image: bytes | None = None
    error: Exception | None = None


class Batcher:
    """Paints requests in batches on one thread; `paint` blocks until its own image is ready."""

    def __init__(self, paint_batch: PaintBatch, settings: Settings) -> None:
        self.settings = settings
        self._paint_batch = paint_batch
        self._waiting: list[_Waiter] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._paint_forever, name="batcher", daemon=True).start()

    def paint(self, request: Request) -> bytes:
        """The PNG of `request`, painted alone or with others of its batch key; raises what
        the pipeline raised for its batch."""
        waiter = _Waiter(request, time.monotonic())
        with self._changed:
            self._waiting.append(waiter)
            self._changed.notify_all()
        waiter.done.wait()
        if waiter.error is not None:
            raise waiter.error
        if waiter.image is None:
            raise RuntimeError("the painter stopped before painting this request")
        return waiter.image

    def _next_batch(self) -> list[_Waiter]:
        window = self.settings.window_ms / 1000
        with self._changed:
            self._changed.wait_for(lambda: bool(self._waiting))
            oldest = self._waiting[0]
            key = oldest.request.batch_key()
            while True:
                batch = [w for w in self._waiting if w.request.batch_key() == key]
                batch = batch[: self.settings.max_batch]
                left = oldest.arrived + window - time.monotonic()
                if len(batch) == self.settings.max_batch or left <= 0:
                    break
                self._changed.wait(left)
            for waiter in batch:
                self._waiting.remove(waiter)
            return batch

    def _paint_forever(self) -> None:
        while True:
            batch = self._next_batch()
            try:
                images = self._paint_batch([w.request for w in batch])
                if len(images) != len(batch):
                    raise RuntimeError(f"{len(images)} images for {len(batch)} requests")
                for waiter, image in zip(batch, images, strict=True):
                    waiter.image = image
            except Exception as exc:  # every waiter of the batch hears of it; none hangs
                for waiter in batch:
                    waiter.error = exc
            finally:
                for waiter in batch:
                    waiter.done.set()
