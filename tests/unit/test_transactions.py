"""A cancelled transaction says which of its writes was refused, whatever order PynamoDB
sends them in (condition checks, deletes, puts, updates)."""

from __future__ import annotations

import pytest
from pynamodb.exceptions import TransactWriteError

from chalicelib.adapters import clock
from chalicelib.models.audit import AuditEntry
from chalicelib.models.base import transaction
from chalicelib.models.users import ACTIVE, BANNED, UserProfile
from chalicelib.services import audit
from tests.support.in_process_aws import aws


def test_the_refused_write_is_named_even_when_it_was_sent_after_another() -> None:
    with aws():
        now = clock.now()
        for user_id in ("u1", "u2"):
            UserProfile(user_id, status=BANNED, strikes=0, created_at=now, updated_at=now).save()
        profile = UserProfile("u1")
        entry = audit.entry(audit.Event("policy", "suspend", "user", "u1"))
        checked = (UserProfile, "u2", None)
        with pytest.raises(TransactWriteError) as refused, transaction() as tx:
            tx.update(profile, [UserProfile.strikes.add(1)], condition=UserProfile.status == ACTIVE)
            tx.save(entry, condition=AuditEntry.sk.does_not_exist())  # sent before the update
            tx.condition_check(UserProfile, "u2", condition=UserProfile.status == BANNED)
        assert tx.refused(refused.value, profile)
        assert not tx.refused(refused.value, entry)
        assert not tx.refused(refused.value, checked)
