"""Every line of `objektify transparency export` passes the DSA Transparency Database's
validation of a statement of reasons, as the database's own code states it
(digital-services-act/transparency-database, app/Http/Requests/StatementStoreRequest.php and
app/Models/Statement.php at 69e80a0 of 2026-06-24: the 2025 revision of the categories and
keywords, unchanged since), and holds no personal data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib.adapters import clock
from chalicelib.models.statements import (
    ACCOUNT_SUSPENDED,
    ACCOUNT_TERMINATED,
    SOURCE_NOTICE,
    SOURCE_OWN_INITIATIVE,
    SOURCE_REPORT,
)
from chalicelib.services import statements, transparency
from chalicelib.settings import get_settings
from tests.support.in_process_aws import aws, consented_profile, painted

# The database's enumerations (the keys it accepts), from app/Models/Statement.php.
DECISION_VISIBILITIES = {
    "DECISION_VISIBILITY_CONTENT_REMOVED",
    "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
}
DECISION_ACCOUNTS = {"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"}
DECISION_GROUNDS = {"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
CONTENT_TYPES = {
    "CONTENT_TYPE_APP",
    "CONTENT_TYPE_AUDIO",
    "CONTENT_TYPE_IMAGE",
    "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
}
CATEGORIES = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
}
# The keywords we use, each in the database's list (KEYWORD_DANGEROUS_TOYS was dropped in 2025).
KEYWORDS = {
    "KEYWORD_ADULT_SEXUAL_MATERIAL",
    "KEYWORD_COPYRIGHT_INFRINGEMENT",
    "KEYWORD_HATE_SPEECH",
    "KEYWORD_NUDITY",
    "KEYWORD_VIOLATION_NATIONAL_LAW",
    "KEYWORD_OTHER",
}
SOURCE_TYPES = {
    "SOURCE_ARTICLE_16",
    "SOURCE_TRUSTED_FLAGGER",
    "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_VOLUNTARY",
}
AUTOMATED_DECISIONS = {
    "AUTOMATED_DECISION_FULLY",
    "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
}
# EuropeanCountriesService::EUROPEAN_COUNTRY_CODES: the EU's 27 and Iceland, Liechtenstein, Norway.
COUNTRIES = {
    *("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE"),
    *("IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"),
}
DECISIONS = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
REQUIRED = (
    "decision_ground",
    "content_type",
    "category",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
)
MAX_CHARS = {
    "decision_facts": 5000,
    "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000,
    "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000,
    "content_type_other": 500,
    "source_identity": 500,
    "puid": 500,
}
DATES = {
    "content_date": date(2000, 1, 1),
    "application_date": date(2020, 1, 1),
    "end_date_account_restriction": None,
}


def violations(s: dict[str, Any]) -> list[str]:
    """What the database's validation would refuse in `s` (an empty list: accepted)."""
    found = [f"{name} is required" for name in REQUIRED if s.get(name) in (None, "", [])]
    if all(s.get(name) in (None, "", []) for name in DECISIONS):
        found.append("one of the decision fields is required")
    for value in s.get("decision_visibility") or []:
        if value not in DECISION_VISIBILITIES:
            found.append(f"decision_visibility {value}")
    if s.get("decision_account") not in (None, *DECISION_ACCOUNTS):
        found.append("decision_account")
    if s.get("decision_ground") not in DECISION_GROUNDS:
        found.append("decision_ground")
    if not isinstance(s.get("content_type"), list) or not set(s["content_type"]) <= CONTENT_TYPES:
        found.append("content_type")
    elif "CONTENT_TYPE_OTHER" in s["content_type"] and not s.get("content_type_other"):
        found.append("content_type_other is required with CONTENT_TYPE_OTHER")
    if s.get("category") not in CATEGORIES:
        found.append(f"category {s.get('category')}")
    for keyword in s.get("category_specification") or []:
        if keyword not in KEYWORDS:
            found.append(f"category_specification {keyword}")
    if not set(s.get("territorial_scope") or []) <= COUNTRIES:
        found.append("territorial_scope")
    if s.get("source_type") not in SOURCE_TYPES:
        found.append("source_type")
    if s.get("automated_detection") not in ("Yes", "No"):
        found.append("automated_detection")
    if s.get("automated_decision") not in AUTOMATED_DECISIONS:
        found.append("automated_decision")
    if s.get("decision_ground") == "DECISION_GROUND_ILLEGAL_CONTENT":
        found += [
            f"{name} is required for illegal content"
            for name in ("illegal_content_legal_ground", "illegal_content_explanation")
            if not s.get(name)
        ]
    if s.get("decision_ground") == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        found += [
            f"{name} is required for incompatible content"
            for name in ("incompatible_content_ground", "incompatible_content_explanation")
            if not s.get(name)
        ]
        if s.get("incompatible_content_illegal", "No") not in ("Yes", "No"):
            found.append("incompatible_content_illegal")
    for name, most in MAX_CHARS.items():
        if isinstance(s.get(name), str) and len(s[name].strip()) > most:
            found.append(f"{name} longer than {most}")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", str(s.get("puid", ""))):
        found.append("puid format")
    for name, earliest in DATES.items():
        if s.get(name) is None:
            continue
        try:
            day = date.fromisoformat(s[name])
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", s[name])
        except (ValueError, AssertionError, TypeError):
            found.append(f"{name} is not YYYY-MM-DD")
            continue
        if (earliest and day < earliest) or day > date(2038, 1, 1):
            found.append(f"{name} out of range")
    return found


@pytest.fixture
def world() -> Iterator[None]:
    with aws():
        yield


def every_kind() -> Iterator[dict[str, Any]]:
    """A statement of every kind the service writes, as exported."""
    from chalicelib.models.generations import find

    creator = consented_profile("creator-1")
    image = find(painted(creator))
    assert image is not None
    for category in ("sexual", "violent", "hateful", "illegal", "copyright", "privacy", "other"):
        for source in (SOURCE_OWN_INITIATIVE, SOURCE_REPORT, SOURCE_NOTICE):
            made = statements.about_content(
                image,
                decided_by="moderator-1",
                category=category,
                explanation="x" * 2500,  # longer than the database allows: cut, not refused
                facts="A moderator looked at the image and its prompt.",
                automated_detection=source == SOURCE_OWN_INITIATIVE,
                automated_decision=False,
                source=source,
            )
            yield transparency.dsa_statement(made)
    for decision, until in (
        (ACCOUNT_SUSPENDED, clock.now() + timedelta(days=7)),
        (ACCOUNT_SUSPENDED, None),
        (ACCOUNT_TERMINATED, None),
    ):
        made = statements.about_account(
            creator,
            decision,
            decided_by="policy",
            explanation="3 strikes",
            facts="The account reached 3 strike(s).",
            end_date=until,
            automated=True,
        )
        yield transparency.dsa_statement(made)


def test_every_exported_statement_passes_the_databases_validation(world: None) -> None:
    exported = list(every_kind())
    assert len(exported) == 24
    for line in exported:
        assert violations(line) == [], line


def test_the_export_names_nobody(world: None) -> None:
    for line in every_kind():
        text = str(line)
        assert "creator-1" not in text and "moderator-1" not in text
        assert "source_identity" not in line


@pytest.mark.parametrize(
    "change",
    [
        {"decision_visibility": None},
        {"category": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"},  # gone in 2025
        {"category_specification": ["KEYWORD_DANGEROUS_TOYS"]},
        {"automated_detection": True},
        {"automated_decision": "Fully automated"},
        {"application_date": "2026-5-3"},
        {"content_date": "1999-12-31"},
        {"puid": "a b"},
        {"decision_facts": "x" * 5001},
        {"territorial_scope": ["UK"]},
        {"content_type": ["CONTENT_TYPE_OTHER"]},
        {"incompatible_content_explanation": ""},
    ],
)
def test_the_validator_refuses_what_the_database_refuses(world: None, change: dict) -> None:
    valid = next(every_kind())
    assert violations(valid) == []
    assert violations({**valid, **change}) != []


def test_the_statements_of_a_period_are_exported_since_a_time(world: None) -> None:
    settings = get_settings()
    assert settings.statements_table
    creator = consented_profile("creator-2")
    from chalicelib.models.generations import find

    image = find(painted(creator))
    assert image is not None
    statements.about_content(
        image,
        decided_by="m",
        category="violent",
        explanation="gore",
        facts="looked",
        automated_detection=False,
        automated_decision=False,
    ).save()
    assert len(list(transparency.dsa_statements(None))) == 1
    later = clock.now() + timedelta(minutes=1)
    assert list(transparency.dsa_statements(later)) == []
