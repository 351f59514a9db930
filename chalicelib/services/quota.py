"""The rolling-window generation quota, as a pure rule over the profile's recent times."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class QuotaDecision:
    allowed: bool
    times: list[float]  # what to store if allowed: the recent accepted times, oldest first
    retry_after: int  # seconds until a unit frees up, when refused


def take(recent: list[float] | None, now_ms: float, limit: int, window_s: int) -> QuotaDecision:
    """Take one unit: allowed while fewer than `limit` acceptances fall in the last `window_s`."""
    window_ms = window_s * 1000
    live = sorted(t for t in (recent or []) if t > now_ms - window_ms)
    if len(live) >= limit:
        oldest_that_matters = live[len(live) - limit]
        wait_ms = oldest_that_matters + window_ms - now_ms
        return QuotaDecision(False, live[-limit:], max(1, math.ceil(wait_ms / 1000)))
    return QuotaDecision(True, [*live, now_ms][-limit:], 0)
