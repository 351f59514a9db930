"""Build a process-wide object once, even when many threads ask for it at the same moment.

`functools.lru_cache` lets every thread that misses build its own copy: on the local API
server (one process, a thread per request) a burst of first requests would each compile the
prompt policy and create their own AWS clients, all under one GIL. In Lambda a container serves
one request at a time, so there the lock is never contended.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class _BuiltOnce(Generic[P, T]):
    def __init__(self, build: Callable[P, T]) -> None:
        self._build = build
        self._built: dict[tuple[Hashable, ...], T] = {}
        self._lock = threading.Lock()
        functools.update_wrapper(self, build)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        key: tuple[Any, ...] = (*args, *sorted(kwargs.items()))
        try:
            return self._built[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._built:
                self._built[key] = self._build(*args, **kwargs)
            return self._built[key]

    def cache_clear(self) -> None:
        with self._lock:
            self._built.clear()


def built_once(build: Callable[P, T]) -> _BuiltOnce[P, T]:
    """Memoise `build` per arguments for the life of the process; one builder at a time."""
    return _BuiltOnce(build)
