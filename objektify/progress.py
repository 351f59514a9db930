"""The progress of long operator work (`objektify dataset export`, `model package|publish`,
`transparency export`, …): on a terminal a tqdm bar with count, rate and time left; anywhere
else (a log, a pipe, CI) a plain line every few seconds, and one at the end::

    dataset export: 1200/5000 records, 240/s, about 16 s left
    dataset export: 5000/5000 records in 21 s, 238/s

The interval is OBJEKTIFY_PROGRESS_SECONDS (default 5). How to use it::

    from objektify.progress import progress

    with progress("hashlist import", total=len(rows), unit="hashes") as meter:
        for row in rows:
            ...
            meter.advance()  # or advance(n): n more done; safe from several threads

    with progress("scale fill", total=size, unit="images") as meter:
        for image in meter.each(images):  # an iterable, counted as the loop goes on
            ...

Code that runs in Lambda (chalicelib) never imports this module: a service takes a callback
`on_progress: Callable[[int, int | None], None] | None = None` and calls it with (done, total
so far; None while unknown), and the command passes `meter.update`::

    with progress("dataset export", unit="records") as meter:
        export_dataset(out, since, on_progress=meter.update)

objektify's own operator code (objektify/rollout: packing and uploading a model) uses a meter
directly, since it never runs in Lambda.

The first `update` starts the clock the rate is measured by, so work done before it (a scan
that finds the total, a resumed run's earlier part) does not skew the time left. With
`unit="B"` counts are shown as kB/MB/GB. tqdm is imported only when a terminal shows the bar.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar

INTERVAL_VARIABLE = "OBJEKTIFY_PROGRESS_SECONDS"
DEFAULT_INTERVAL = 5.0
BYTES = "B"

T = TypeVar("T")


def interval_setting() -> float:
    """Seconds between plain lines: OBJEKTIFY_PROGRESS_SECONDS, else 5."""
    return float(os.environ.get(INTERVAL_VARIABLE) or DEFAULT_INTERVAL)


def _amount(count: float, unit: str) -> str:
    if unit != BYTES:
        return f"{count:.0f}"
    for scale, name in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if count >= scale:
            return f"{count / scale:.1f} {name}"
    return f"{count:.0f} B"


def _rate(per_second: float, unit: str) -> str:
    if unit == BYTES:
        return f"{_amount(per_second, unit)}/s"
    return f"{per_second:.0f}/s" if per_second >= 10 else f"{per_second:.1f}/s"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds // 3600:.0f} h {seconds % 3600 / 60:.0f} min"


class Progress:
    """How far a piece of work has got; shows itself on `stream` (see the module docstring)."""

    def __init__(
        self,
        label: str,
        total: int | None,
        unit: str,
        stream: IO[str],
        interval: float,
        clock: Callable[[], float],
    ) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.done = 0
        self._stream, self._interval, self._clock = stream, interval, clock
        self._lock = threading.Lock()
        self._entered = self._since = self._last_line = clock()
        self._done_since = 0
        self._measuring = False  # until the first update(), the rate counts from the start
        self._bar: Any = _terminal_bar(label, total, unit, stream)

    def advance(self, count: int = 1) -> None:
        """`count` more done."""
        with self._lock:
            self._moved(self.done + count, self.total, self._clock())

    def update(self, done: int, total: int | None = None) -> None:
        """`done` so far, of `total` when known (a service's progress callback)."""
        with self._lock:
            now = self._clock()
            if not self._measuring:
                self._measuring = True
                self._since, self._done_since = now, done
                if self._bar is not None:  # its clock restarts too, from `done`
                    self._bar.reset(total=total if total is not None else self.total)
                    self._bar.initial = self._bar.n = self._bar.last_print_n = done
            self._moved(done, total if total is not None else self.total, now)

    def each(self, items: Iterable[T]) -> Iterator[T]:
        """`items`, counting each one as the loop finishes with it."""
        for item in items:
            yield item
            self.advance()

    def _moved(self, done: int, total: int | None, now: float) -> None:
        if total is not None:
            total = max(total, done)  # an estimated total may fall short
        if self._bar is not None:
            if total != self._bar.total:
                self._bar.total = total
                self._bar.refresh()
            self._bar.update(done - self._bar.n)
        self.done, self.total = done, total
        if self._bar is None and now - self._last_line >= self._interval:
            self._say(self._line(now), now)

    def _per_second(self, now: float) -> float:
        seconds = now - self._since
        return (self.done - self._done_since) / seconds if seconds > 0 else 0.0

    def _count(self) -> str:
        unit = "" if self.unit == BYTES else f" {self.unit}"
        if self.total is None:
            return f"{self.label}: {_amount(self.done, self.unit)}{unit}"
        return (
            f"{self.label}: {_amount(self.done, self.unit)}/{_amount(self.total, self.unit)}{unit}"
        )

    def _line(self, now: float) -> str:
        if now <= self._since:
            return self._count()  # the clock has only just started: no rate yet
        per_second = self._per_second(now)
        line = f"{self._count()}, {_rate(per_second, self.unit)}"
        if self.total is not None and per_second > 0:
            line += f", about {_duration((self.total - self.done) / per_second)} left"
        return line

    def _say(self, line: str, now: float) -> None:
        self._last_line = now
        print(line, file=self._stream, flush=True)

    def close(self, failed: bool) -> None:
        """The last word: the bar closed, or one plain line with the count and time taken."""
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                return
            now = self._clock()
            taken = _duration(now - self._entered)
            if failed:
                self._say(f"{self._count()}, stopped after {taken}", now)
            elif now > self._since:
                self._say(
                    f"{self._count()} in {taken}, {_rate(self._per_second(now), self.unit)}", now
                )
            else:
                self._say(f"{self._count()} in {taken}", now)


def _terminal_bar(label: str, total: int | None, unit: str, stream: IO[str]) -> Any:
    """A tqdm bar when `stream` is a terminal and tqdm is installed (the operators extra)."""
    isatty = getattr(stream, "isatty", None)
    if not (callable(isatty) and isatty()):
        return None
    try:
        from tqdm import tqdm  # type: ignore[import-untyped]
    except ImportError:
        return None
    return tqdm(
        total=total,
        desc=label,
        unit=unit if unit == BYTES else f" {unit.split()[0]}",  # 5000/5000, 240 records/s
        unit_scale=unit == BYTES,
        file=stream,
        dynamic_ncols=True,
    )


@contextmanager
def progress(
    label: str,
    total: int | None = None,
    unit: str = "items",
    *,
    stream: IO[str] | None = None,
    interval: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Progress]:
    """Show the progress of the work inside the block on `stream` (default: standard output):
    a bar on a terminal, otherwise a line every `interval` seconds (default: the setting) and
    a last one when the block ends (saying so when it ends with an error)."""
    meter = Progress(
        label,
        total,
        unit,
        stream if stream is not None else sys.stdout,
        interval_setting() if interval is None else interval,
        clock,
    )
    try:
        yield meter
    except BaseException:
        meter.close(failed=True)
        raise
    meter.close(failed=False)
