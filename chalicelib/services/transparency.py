"""Transparency (DSA art. 15 and 24): the public report's counts for a period, and the
statements of reasons in the DSA Transparency Database's statement format.

The report reads the counters of its period's days (`report_days`): a few small items per
day, whatever the history holds, each added to in the transaction of the decision, appeal or
notice it counts. The export scans the statements: an operator's occasional run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from chalicelib.adapters import clock
from chalicelib.models.statements import (
    ACCOUNT_SUSPENDED,
    ACCOUNT_TERMINATED,
    CONTENT_REMOVED,
    GROUND_ILLEGAL,
    RESTRICTIONS,
    SOURCE_NOTICE,
    SOURCE_REPORT,
    Statement,
)
from chalicelib.services import report_days
from chalicelib.services.errors import InvalidRequest

MAX_DAYS = 366
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive
    end: datetime  # exclusive

    @classmethod
    def of_dates(cls, first: str | None, last: str | None) -> Period:
        """From `first` to `last`, whole days in UTC, both included (the last 30 days by
        default)."""
        try:
            last_day = clock.now().date() if last is None else date.fromisoformat(last)
            first_day = (
                last_day - timedelta(DEFAULT_DAYS) if first is None else date.fromisoformat(first)
            )
        except ValueError as exc:
            raise InvalidRequest(details={"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}) from exc
        if first_day > last_day or (last_day - first_day).days > MAX_DAYS:
            raise InvalidRequest(
                details={"from": f"on or before `to`, at most {MAX_DAYS} days before it"}
            )
        start = datetime.combine(first_day, time.min, tzinfo=clock.now().tzinfo)
        return cls(start, start + timedelta(days=(last_day - first_day).days + 1))

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


def report(period: Period) -> dict[str, Any]:
    """The counts the public report shows for a period, from its days' counters."""
    counts = report_days.counts(period.start.date(), (period.end - period.start).days)

    def under(prefix: str) -> dict[str, int]:
        return dict(
            sorted(
                (k.removeprefix(prefix), n) for k, n in counts.items() if k.startswith(prefix) and n
            )
        )

    by_decision = under("decisions.by_decision.")
    return {
        "from": period.start.date().isoformat(),
        "to": (period.end - timedelta(days=1)).date().isoformat(),
        "notices": {
            "total": counts["notices"],
            "by_category": under("notices.by_category."),
        },
        "decisions": {
            "total": counts["decisions"],
            "by_decision": by_decision,
            "by_ground": under("decisions.by_ground."),
            "by_category": under("decisions.by_category."),
            "by_source": under("decisions.by_source."),
            "automated_detection": counts["decisions.automated_detection"],
            "automated_decision": counts["decisions.automated_decision"],
        },
        "median_hours_notice_to_decision": report_days.median_hours(counts),
        "appeals": {
            "received": counts["appeals.received"],
            "upheld": counts["appeals.upheld"],
            "reversed": counts["appeals.reversed"],
        },
        "accounts": {
            "suspended": by_decision.get(ACCOUNT_SUSPENDED, 0),
            "terminated": by_decision.get(ACCOUNT_TERMINATED, 0),
        },
    }


# The DSA Transparency Database's statement format ------------------------------------------

# The database's statement format, as its validation code has it since its 2025 revision (the
# last change; none in 2026): category keys, keywords, sources, and which fields each decision
# and ground requires. tests/unit/test_transparency_export.py checks each line against it.
_CATEGORY = {  # our category -> (STATEMENT_CATEGORY_*, KEYWORD_* or None)
    "sexual": ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "KEYWORD_ADULT_SEXUAL_MATERIAL"),
    "violent": ("STATEMENT_CATEGORY_VIOLENCE", None),
    "hateful": ("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "KEYWORD_HATE_SPEECH"),
    "illegal": ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "KEYWORD_VIOLATION_NATIONAL_LAW"),
    "copyright": (
        "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        "KEYWORD_COPYRIGHT_INFRINGEMENT",
    ),
    "privacy": ("STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", None),
}
_OTHER_CATEGORY = ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", None)
_SOURCE = {SOURCE_NOTICE: "SOURCE_ARTICLE_16", SOURCE_REPORT: "SOURCE_TYPE_OTHER_NOTIFICATION"}
_LAW = {
    "copyright": "Copyright law: Directive 2001/29/EC as implemented in national law",
    "privacy": "Regulation (EU) 2016/679 (GDPR) and national privacy law",
    "illegal": "The national law that makes the content illegal",
}
# The service is offered everywhere in the EU and the EEA.
TERRITORIAL_SCOPE = (  # the database's country codes (GR, not EL)
    *("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE"),
    *("IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"),
)


def dsa_statement(statement: Statement) -> dict[str, Any]:
    """One statement of reasons as the database's API takes it: its field names and values,
    and nothing that identifies a person (the `puid` is our statement's id, not the user's;
    the notifier is not named)."""
    category, keyword = _CATEGORY.get(statement.category, _OTHER_CATEGORY)
    decided_on = statement.created_at.date().isoformat()
    about_content = statement.decision == CONTENT_REMOVED
    out: dict[str, Any] = {
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT"
        if statement.ground == GROUND_ILLEGAL
        else "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "category": category,
        "decision_facts": _limit(statement.facts, 5000),
        "automated_detection": "Yes" if statement.automated_detection else "No",
        "automated_decision": "AUTOMATED_DECISION_FULLY"
        if statement.automated_decision
        else "AUTOMATED_DECISION_NOT_AUTOMATED",
        "source_type": _SOURCE.get(statement.source, "SOURCE_VOLUNTARY"),
        "application_date": decided_on,
        "content_date": statement.content_created_at.date().isoformat()
        if statement.content_created_at is not None
        else decided_on,
        "puid": statement.statement_id,
        "territorial_scope": list(TERRITORIAL_SCOPE),
        "content_type": ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"]
        if about_content
        else ["CONTENT_TYPE_OTHER"],
    }
    if keyword:
        out["category_specification"] = [keyword]
    if about_content:
        out["decision_visibility"] = ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    else:
        out["content_type_other"] = "A user account and the images it makes"
        out["decision_account"] = (
            "DECISION_ACCOUNT_SUSPENDED"
            if statement.decision == ACCOUNT_SUSPENDED
            else "DECISION_ACCOUNT_TERMINATED"
        )
        if statement.end_date is not None:
            out["end_date_account_restriction"] = statement.end_date.date().isoformat()
    if statement.ground == GROUND_ILLEGAL:
        out["illegal_content_legal_ground"] = _LAW.get(statement.category, _LAW["illegal"])
        out["illegal_content_explanation"] = _limit(statement.explanation, 2000)
    else:
        out["incompatible_content_ground"] = _limit(statement.ground_reference, 500)
        out["incompatible_content_explanation"] = _limit(statement.explanation, 2000)
        out["incompatible_content_illegal"] = "No"
    return out


def _limit(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def dsa_statements(
    since: datetime | None, on_progress: Callable[[int, int | None], None] | None = None
) -> Iterator[dict[str, Any]]:
    """Every restricting decision since `since` (all if None), in the database's format.
    `on_progress`, when given, is told (statements scanned, statements in the table): the scan
    reads them all, and the table's count is DynamoDB's estimate (refreshed every few hours)."""
    condition = Statement.created_at >= since if since is not None else None
    found = Statement.scan(condition)
    total = None
    if on_progress is not None:
        total = Statement.count()
        on_progress(0, total)
    for statement in found:
        if on_progress is not None:
            on_progress(found.page_iter.total_scanned_count, total)
        if statement.decision in RESTRICTIONS:
            yield dsa_statement(statement)
    if on_progress is not None:
        on_progress(found.page_iter.total_scanned_count, total)
