"""A history of what clients attempted and were told, and a checker that reads the system's
state back and reports every anomaly (the Jepsen habit: check the history, not a happy path)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from local.config import StackState
from tests.support.client import Api

FINAL = {"published", "in_review", "rejected", "failed", "removed"}


@dataclass
class Operation:
    kind: str  # submit | delete | report | consent
    user: str
    target: str | None
    status: int
    answer: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class History:
    operations: list[Operation] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, user: str, target: str | None, status: int, answer: Any) -> None:
        with self.lock:
            self.operations.append(
                Operation(kind, user, target, status, answer if isinstance(answer, dict) else {})
            )

    def of(self, kind: str) -> list[Operation]:
        return [o for o in self.operations if o.kind == kind]


def feed_ids(state: StackState) -> list[str]:
    public, ids, cursor = Api(state), [], None
    while True:
        page = public.get("/gallery?limit=100" + (f"&cursor={cursor}" if cursor else "")).json()
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids


def check(
    history: History, state: StackState, users: dict[str, Api], moderator: Api | None = None
) -> list[str]:
    """Every anomaly, one line each; an empty list means the history holds."""
    anomalies: list[str] = []
    accepted = [o for o in history.of("submit") if o.status == 202]
    deleted = {o.target for o in history.of("delete") if o.status == 204}
    feed = feed_ids(state)
    for image_id, count in Counter(feed).items():
        if count > 1:
            anomalies.append(f"{image_id} appears {count} times in the feed")
    for op in accepted:
        generation_id = op.answer.get("id")
        answer = users[op.user].get(f"/generations/{generation_id}")
        if answer.status_code != 200:
            anomalies.append(f"accepted generation {generation_id} is lost ({answer.status_code})")
            continue
        status = answer.json()["status"]
        if status not in FINAL:
            anomalies.append(f"accepted generation {generation_id} never finished ({status})")
        public = Api(state).get(f"/gallery/{generation_id}").status_code
        in_feed = generation_id in feed
        if status == "published" and (public != 200 or not in_feed):
            anomalies.append(
                f"{generation_id} is published but not reachable (detail {public}, feed {in_feed})"
            )
        if status != "published" and (public == 200 or in_feed):
            anomalies.append(f"{generation_id} is {status} yet public")
        if generation_id in deleted and status != "removed":
            anomalies.append(f"{generation_id} was deleted (204) but is {status}")
    refused = [o for o in history.of("submit") if o.status != 202]
    for user, api in users.items():
        mine = api.get("/me/generations?limit=100").json()["items"]
        made = {o.answer.get("id") for o in accepted if o.user == user}
        unexplained = [item for item in mine if item["id"] not in made]
        # A submit whose answer was lost (the app was killed mid-request) may have left the
        # generation it started: indeterminate, so allowed, once per lost answer, if it ended.
        lost = sum(1 for o in history.of("interrupted submit") if o.user == user)
        for item in unexplained[lost:]:
            anomalies.append(f"{user} has a generation no accepted submit made: {item['id']}")
        for item in unexplained[:lost]:
            if item["status"] not in FINAL:
                anomalies.append(f"{user}'s interrupted submit left {item['id']} {item['status']}")
    for op in refused:
        if op.status >= 500 and op.status != 503:
            anomalies.append(f"a submit got {op.status}: {op.answer}")
    if moderator is not None:
        audit = moderator.get("/moderation/audit?limit=100").json()["items"]
        for op in history.of("decision"):
            if op.status == 200 and not any(e["target"]["id"] == op.target for e in audit):
                anomalies.append(f"decision on {op.target} has no audit entry")
    return anomalies
