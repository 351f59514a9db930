"""Consent to the Terms of Service: append-only records proving who accepted which exact text."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError

from chalicelib.adapters import clock, secrets
from chalicelib.models.base import refused_by_condition, transaction
from chalicelib.models.consents import ConsentEvidence, ConsentRecord
from chalicelib.models.users import ACTIVE, UserProfile
from chalicelib.services import accounts, terms
from chalicelib.services.errors import (
    Conflict,
    ConsentRequired,
    InvalidRequest,
    TermsOutdated,
)
from chalicelib.settings import get_settings

_UA_FAMILIES = (
    ("Edge", re.compile(r"\bEdg(e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/")),
    ("Chrome", re.compile(r"\b(Chrome|Chromium|CriOS)/")),
    ("Firefox", re.compile(r"\b(Firefox|FxiOS)/")),
    ("Safari", re.compile(r"\bSafari/")),
    ("curl", re.compile(r"^curl/")),
    ("python", re.compile(r"^(python-requests|python-httpx|Python-urllib)/")),
)


@dataclass(frozen=True)
class ConsentState:
    accepted_version: int | None
    current_version: int
    required: bool


@dataclass(frozen=True)
class Acceptance:
    version: int
    accepted_at: str


def user_agent_family(user_agent: str | None) -> str | None:
    """Only the browser family is kept, never the full string (it fingerprints people)."""
    if not user_agent:
        return None
    for family, pattern in _UA_FAMILIES:
        if pattern.search(user_agent):
            return family
    return "other"


def address_hash(address: str | None) -> str | None:
    key = secrets.address_hash_key()
    if not address or not key:
        return None
    return hmac.new(key.encode(), address.encode(), hashlib.sha256).hexdigest()


def state_of(profile: UserProfile | None) -> ConsentState:
    current = terms.current_terms()
    accepted = None if profile is None else profile.accepted_terms_version
    accepted_version = None if accepted is None else int(accepted)
    required = not (
        profile is not None
        and accepted_version == current.version
        and profile.accepted_terms_sha256 == current.sha256
    )
    return ConsentState(accepted_version, current.version, required)


def require_consent(profile: UserProfile | None) -> terms.Terms:
    """The terms the caller works under; refuses anyone who has not accepted the current ones."""
    current = terms.current_terms()
    if state_of(profile).required:
        raise ConsentRequired(
            f"Accept version {current.version} of the Terms of Service to continue.",
            details={"current_version": current.version, "sha256": current.sha256},
        )
    return current


def accept(
    user_id: str, version: int, sha256: str, source_address: str | None, user_agent: str | None
) -> Acceptance:
    """Record that `user_id` accepted `version` whose text hashes to `sha256`."""
    profile = accounts.load_profile(user_id)
    accounts.require_unrestricted(profile)
    current = terms.current_terms()
    if version != current.version:
        raise TermsOutdated(
            f"Version {version} is not the current version ({current.version}).",
            details={"current_version": current.version},
        )
    if not hmac.compare_digest(sha256.lower(), current.sha256):
        raise InvalidRequest(
            "The sha256 does not match the current terms text.",
            details={"sha256": "does not match the current terms text"},
        )
    now = clock.now()
    consent_id = f"{clock.iso(now)}#v{version}"
    record = ConsentRecord(
        user_id,
        consent_id,
        terms_version=version,
        terms_sha256=current.sha256,
        accepted_at=now,
        user_agent_family=user_agent_family(user_agent),
    )
    retention = timedelta(days=get_settings().address_retention_days)
    evidence = ConsentEvidence(
        user_id,
        consent_id,
        address_hash=address_hash(source_address),
        expires_at=now + retention,
    )
    try:
        with transaction() as tx:
            tx.save(record, condition=ConsentRecord.consent_id.does_not_exist())
            tx.save(evidence)
            if profile is None:
                tx.save(
                    UserProfile(
                        user_id,
                        status=ACTIVE,
                        strikes=0,
                        accepted_terms_version=version,
                        accepted_terms_sha256=current.sha256,
                        created_at=now,
                        updated_at=now,
                    ),
                    condition=UserProfile.user_id.does_not_exist(),
                )
            else:
                tx.update(
                    profile,
                    actions=[
                        UserProfile.accepted_terms_version.set(version),
                        UserProfile.accepted_terms_sha256.set(current.sha256),
                        UserProfile.updated_at.set(now),
                    ],
                    condition=UserProfile.status == profile.status,
                )
    except TransactWriteError as exc:
        if not refused_by_condition(exc):
            raise
        # The profile changed under us (a restriction, or a parallel first consent).
        fresh = accounts.load_profile(user_id, fresh=True)
        accounts.require_unrestricted(fresh)
        if fresh is not None and not state_of(fresh).required:
            return Acceptance(version, clock.iso(now))
        raise Conflict("The account changed while accepting; try again.") from exc
    return Acceptance(version, clock.iso(now))
