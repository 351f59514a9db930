"""The scan's decision from scanner scores (scores injected through the scanner interface)."""

from __future__ import annotations

import pytest

from chalicelib.adapters.image_scanner import Label
from chalicelib.services.scan_policy import decide


@pytest.mark.parametrize(
    "labels, outcome, category",
    [
        ([], "published", None),
        ([Label("FACE_FEMALE", 0.99), Label("FEET_EXPOSED", 0.9)], "published", None),
        ([Label("FEMALE_BREAST_EXPOSED", 0.30)], "published", None),
        ([Label("FEMALE_BREAST_EXPOSED", 0.60)], "in_review", "sexual"),
        ([Label("FEMALE_GENITALIA_EXPOSED", 0.93)], "rejected", "sexual"),
        ([Label("Graphic Violence", 0.91)], "rejected", "violent"),
        ([Label("Hate Symbols", 0.5)], "in_review", "hateful"),
        ([Label("Violence", 0.5), Label("Explicit Nudity", 0.95)], "rejected", "sexual"),
    ],
)
def test_the_worst_policy_label_decides(
    labels: list[Label], outcome: str, category: str | None
) -> None:
    decision = decide(labels)
    assert decision.outcome == outcome
    assert decision.category == category


def test_the_bands_come_from_the_policy_data() -> None:
    strict = {"reject_at": 0.2, "review_at": 0.1, "labels": {"X": "violent"}}
    assert decide([Label("X", 0.25)], strict).outcome == "rejected"
    assert decide([Label("X", 0.15)], strict).outcome == "in_review"
    assert decide([Label("Y", 0.99)], strict).outcome == "published"
