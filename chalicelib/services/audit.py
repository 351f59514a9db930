"""The audit log: who did or viewed what, when and why. Append-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.adapters import clock, ids
from chalicelib.models.audit import AuditEntry, month_partition
from chalicelib.services import cursors

PURPOSE = "audit"
POLICY_ACTOR = "policy"  # the service's own rules (the strike policy, the scan, reports)


def link_actor(minted_by: str) -> str:
    """Who a view through a signed review link is recorded as: the moderator who minted it."""
    return f"link:{minted_by}"


MAX_MONTHS_BACK = 36


@dataclass(frozen=True)
class Event:
    actor: str
    action: str
    target_type: str
    target_id: str
    reason: str | None = None
    details: dict[str, Any] | None = None


def entry(event: Event) -> AuditEntry:
    """An entry to write in the same transaction as the change it records."""
    return _entry(event, clock.now())


def _entry(event: Event, at: datetime) -> AuditEntry:
    entry_id = ids.new_id()
    stamp = clock.iso(at)
    return AuditEntry(
        month_partition(stamp),
        f"{stamp}#{entry_id}",
        entry_id=entry_id,
        at=at,
        actor=event.actor,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        reason=event.reason,
        details=event.details or None,
    )


def record(event: Event) -> None:
    entry = _entry(event, clock.now())
    entry.save(condition=AuditEntry.sk.does_not_exist())


def record_many(events: list[Event]) -> None:
    """Append many entries in as few round trips as DynamoDB allows (25 per batch)."""
    now = clock.now()
    with AuditEntry.batch_write() as batch:
        for event in events:
            batch.save(_entry(event, now))


@dataclass(frozen=True)
class Record:
    """An audit entry as moderators read it."""

    id: str
    at: str
    actor: str
    action: str
    target: dict[str, str]
    reason: str | None
    details: dict[str, Any]


def described(entry: AuditEntry) -> Record:
    return Record(
        id=entry.entry_id,
        at=clock.iso(entry.at),
        actor=entry.actor,
        action=entry.action,
        target={"type": entry.target_type, "id": entry.target_id},
        reason=entry.reason,
        details=dict(entry.details.as_dict()) if entry.details is not None else {},  # type: ignore[no-untyped-call]
    )


def _previous_month(partition: str) -> str:
    year, month = int(partition[4:8]), int(partition[9:11])
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return f"log#{year:04d}-{month:02d}"


def page(limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
    """Entries newest first, across month partitions."""
    position = cursors.decode(cursor, PURPOSE) if cursor else {}
    partition = str(position.get("pk") or month_partition(clock.iso(clock.now())))
    after = position.get("sk")
    items: list[AuditEntry] = []
    for _ in range(MAX_MONTHS_BACK):
        condition = AuditEntry.sk < after if after else None
        found = list(
            AuditEntry.query(
                partition, condition, scan_index_forward=False, limit=limit - len(items) + 1
            )
        )
        items += found
        if len(items) > limit:
            last = items[limit - 1]
            return items[:limit], cursors.encode({"pk": last.pk, "sk": last.sk}, PURPOSE)
        partition, after = _previous_month(partition), None
    return items, None
