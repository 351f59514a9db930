"""The data inventory lists exactly the fields the models store, and nothing forbidden exists."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import yaml
from pynamodb.attributes import TTLAttribute
from pynamodb.models import Model

from chalicelib import models, resources
from chalicelib.models import (
    api_keys,
    audit,
    blocked_hashes,
    connections,
    consents,
    exports,
    fingerprints,
    gallery,
    generations,
    idempotency,
    names,
    notices,
    queue_counters,
    quota,
    report_days,
    reports,
    statements,
    terms,
    uploads,
    users,
    webhooks,
)
from chalicelib.settings import Settings

INVENTORY = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "docs" / "data-inventory.yaml").read_text()
)
FORBIDDEN = re.compile(
    r"e_?mail|first_?name|last_?name|full_?name|phone|ip_?address|^address$|birth"
)


def all_models() -> dict[str, type[Model]]:
    found = {}
    for module in (
        users,
        terms,
        consents,
        generations,
        gallery,
        audit,
        reports,
        exports,
        idempotency,
        quota,
        statements,
        notices,
        report_days,
        fingerprints,
        names,
        webhooks,
        queue_counters,
        api_keys,
        connections,
        blocked_hashes,
        uploads,
    ):
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Model) and obj is not Model and obj.__module__ == module.__name__:
                found[name] = obj
    return found


def test_every_stored_field_is_in_the_inventory_and_no_more() -> None:
    listed = INVENTORY["tables"]
    for name, model in all_models().items():
        assert name in listed, f"{name} is missing from docs/data-inventory.yaml"
        assert set(model.get_attributes()) == set(listed[name]["fields"]), name
    assert set(listed) == set(all_models())


def test_every_field_says_why_and_whether_it_is_personal() -> None:
    for name, entry in INVENTORY["tables"].items():
        assert entry["why"] and entry["retention"], name
        for field, facts in entry["fields"].items():
            assert isinstance(facts["personal"], bool) and facts["why"], f"{name}.{field}"


# The one exception: whoever sends a notice (DSA art. 16) gives a name and an e-mail address,
# kept apart from the notice and deleted by TTL once its outcome and appeal window have passed.
NOTIFIER_CONTACT = {("NoticeContact", "name"), ("NoticeContact", "email")}


def test_the_privacy_policy_speaks_of_every_table_and_bucket_with_personal_data() -> None:
    from chalicelib.services.terms import FIRST_PRIVACY

    policy = FIRST_PRIVACY.read_text(encoding="utf-8")
    holders = {
        name: entry
        for name, entry in INVENTORY["tables"].items()
        if any(field["personal"] for field in entry["fields"].values())
    }
    holders.update({n: e for n, e in INVENTORY["buckets"].items() if e["personal"]})
    unspoken = [name for name, entry in holders.items() if "policy" not in entry]
    assert not unspoken, f"quote where the privacy policy speaks of these: {unspoken}"
    missing = {name: e["policy"] for name, e in holders.items() if e["policy"] not in policy}
    assert not missing, f"the privacy policy does not say: {missing}"


def test_no_email_name_or_raw_address_is_stored_anywhere() -> None:
    for name, model in all_models().items():
        for field in model.get_attributes():
            if (name, field) in NOTIFIER_CONTACT:
                continue
            assert not FORBIDDEN.search(field), f"{name}.{field}"


def test_the_notifiers_contact_expires_by_ttl() -> None:
    attributes = notices.NoticeContact.get_attributes().values()
    assert any(isinstance(a, TTLAttribute) for a in attributes)


def test_what_expires_expires_by_ttl_or_lifecycle_not_by_hope() -> None:
    # Tables whose records expire carry a TTL attribute the infrastructure turns on.
    for model in (
        idempotency.IdempotencyRecord,
        consents.ConsentEvidence,
        exports.Export,
        webhooks.WebhookDelivery,
        connections.LiveConnection,
        uploads.Upload,
    ):
        assert any(isinstance(a, TTLAttribute) for a in model.get_attributes().values()), model
    assert any(isinstance(a, TTLAttribute) for a in users.UserProfile.get_attributes().values())
    settings = Settings.from_env()
    expiring = {(bucket, prefix) for bucket, prefix, _ in resources.expiring_prefixes(settings)}
    assert (settings.inputs_bucket, resources.INPUT_PREFIX) in expiring
    assert (settings.exports_bucket, resources.EXPORT_PREFIX) in expiring
    # Shards written before an erasure cannot be reached by it: they expire instead.
    assert (settings.exports_bucket, resources.DATASET_PREFIX) in expiring
    # Uploads: what was posted and never scanned, and clean copies no generation used.
    assert (settings.uploads_bucket, resources.UPLOAD_PREFIX) in expiring
    assert (settings.uploads_bucket, resources.UPLOAD_EXPIRY_TAG, 30) in resources.expiring_tags(
        settings
    )


def test_every_table_model_is_created() -> None:
    tables = {m.Meta.table_name for m in models.TABLE_MODELS}
    assert {m.Meta.table_name for m in all_models().values()} <= tables
