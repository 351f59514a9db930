"""The sweeper: work the model never took is started again; work stuck past its deadline is
finished as failed, so nobody waits forever."""

from __future__ import annotations

from chalicelib.adapters import clock
from chalicelib.models.generations import QUEUED, SWEEP_SHARDS, Generation, find
from chalicelib.observability import logger
from chalicelib.services import lifecycle, submission


def sweep_stale(limit_per_shard: int = 100) -> int:
    """Start again what the model never took; finish what is stuck past its deadline."""
    now = clock.now()
    finished = 0
    for shard in range(SWEEP_SHARDS):
        for item in Generation.open_work.query(
            str(shard), Generation.deadline_at < now, limit=limit_per_shard
        ):
            generation_id = item.generation_id
            claimed = lifecycle.claim_restart(generation_id, now)
            if claimed is not None:
                started = submission.start(generation_id, claimed.input_key)
                logger.info("restarted", extra={"generation_id": generation_id, "ok": started})
                continue
            reason = "could_not_start" if _pending(generation_id) else "timed_out"
            if lifecycle.fail(generation_id, reason, deadline_before=now):
                logger.info("swept", extra={"generation_id": generation_id, "reason": reason})
                finished += 1
    return finished


def _pending(generation_id: str) -> bool:
    item = find(generation_id)
    return item is not None and bool(item.invoke_pending) and item.status == QUEUED
