"""The decision of the automated scan, from scanner labels and the label policy (data)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalicelib.adapters.image_scanner import Label

POLICY_FILE = Path(__file__).resolve().parent.parent / "policy" / "image_labels.json"
PUBLISH, REVIEW, REJECT = "published", "in_review", "rejected"


@dataclass(frozen=True)
class ScanDecision:
    outcome: str  # published | in_review | rejected
    category: str | None
    label: str | None
    score: float


@lru_cache(maxsize=1)
def _policy() -> dict[str, Any]:
    return dict(json.loads(POLICY_FILE.read_text(encoding="utf-8")))


def decide(labels: list[Label], policy: dict[str, Any] | None = None) -> ScanDecision:
    """The worst label the policy names decides: reject, send to a human, or publish."""
    rules = policy or _policy()
    worst: tuple[float, str, str] | None = None
    for label in labels:
        category = rules["labels"].get(label.name)
        if category and (worst is None or label.score > worst[0]):
            worst = (label.score, label.name, category)
    if worst is None or worst[0] < rules["review_at"]:
        return ScanDecision(PUBLISH, None, None, worst[0] if worst else 0.0)
    outcome = REJECT if worst[0] >= rules["reject_at"] else REVIEW
    return ScanDecision(outcome, worst[2], worst[1], worst[0])
