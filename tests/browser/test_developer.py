"""The Developer page at desktop size: a person makes an API key, sees it once and copies it,
a script uses it, the list shows its last use but never the key, and revoking it stops it at
once; the webhook is set (its secret shown once), shown and removed."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import unique

pytestmark = pytest.mark.browser


def open_developer(page: Any) -> None:
    page.get_by_role("link", name="Account", exact=True).click()
    page.get_by_role("link", name="Developer", exact=True).click()
    expect(page.get_by_role("heading", name="Developer")).to_be_visible()


def test_a_person_makes_copies_uses_and_revokes_a_key_and_sets_a_webhook(
    visitors: Any,
) -> None:
    person = visitors()
    page = person.page
    person.context.grant_permissions(["clipboard-read", "clipboard-write"])
    person.open()
    person.sign_in(unique("developer"))
    person.accept_terms()
    open_developer(page)
    expect(page.get_by_text("You have no API keys.")).to_be_visible()
    expect(page.get_by_text("nowhere (no webhook set)")).to_be_visible()

    # Make a key that may only generate: shown once, copied with one click.
    name = f"laptop script {uuid.uuid4().hex[:4]}"
    page.get_by_label("Key name").fill(name)
    page.get_by_role("checkbox", name=re.compile(r"^\s*Read:")).uncheck()
    page.get_by_role("button", name="Create key").click()
    shown = page.get_by_label("Your new API key")
    expect(shown).to_be_visible()
    key = shown.input_value()
    assert key.startswith("objk_") and len(key) == 48
    expect(page.get_by_text("It is shown this once")).to_be_visible()
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == key
    row = page.locator("table[aria-label='Your API keys'] tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(name)
    expect(row).to_contain_text(key[:13])
    expect(row).to_contain_text("generate")
    expect(row).to_contain_text("never")
    assert key[13:] not in row.inner_text()
    person.shot("60-developer-key-created")

    # A script uses it: it may generate, not read.
    api = person.url
    script = {"Authorization": f"Bearer {key}"}
    made = requests.post(
        f"{api}/generations",
        json={"prompt": "a paper boat", "steps": 1},
        headers=script,
        timeout=30,
    )
    assert made.status_code == 202, made.text
    assert requests.get(f"{api}/me", headers=script, timeout=30).status_code == 403

    # Shown once: after a reload the key is nowhere on the page; its last use is.
    page.reload()
    expect(page.get_by_role("heading", name="Developer")).to_be_visible()
    expect(row).to_have_count(1)
    expect(row).not_to_contain_text("never")
    expect(page.get_by_label("Your new API key")).to_have_count(0)
    assert key[13:] not in page.content()

    # The webhook: set (secret shown once), shown, then removed.
    hook = "http://127.0.0.1:9/hooks/objektify"
    page.get_by_label("Webhook URL").fill(hook)
    page.get_by_role("button", name="Save webhook").click()
    secret = page.get_by_label("Your webhook signing secret")
    expect(secret).to_be_visible()
    assert secret.input_value().startswith("whsec_")
    expect(page.locator("dl.facts code")).to_have_text(hook)
    expect(page.get_by_text("No deliveries yet.")).to_be_visible()
    person.shot("61-developer-webhook-set", full_page=True)
    page.get_by_role("button", name="Remove webhook").click()
    expect(page.get_by_text("Webhook removed; nothing more is sent.")).to_be_visible()
    expect(page.get_by_text("nowhere (no webhook set)")).to_be_visible()

    # Revoke: confirmed, gone from the list, refused at once.
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("button", name="Confirm revoke").click()
    expect(page.get_by_text(f"Revoked “{name}”.")).to_be_visible()
    expect(page.get_by_text("You have no API keys.")).to_be_visible()
    refused = requests.post(
        f"{api}/generations",
        json={"prompt": "another boat", "steps": 1},
        headers=script,
        timeout=30,
    )
    assert refused.status_code == 401
    person.shot("62-developer-key-revoked")


def test_a_name_that_is_not_allowed_is_refused_plainly(visitors: Any) -> None:
    person = visitors()
    page = person.page
    person.open()
    person.sign_in(unique("developer-refused"))
    person.accept_terms()
    open_developer(page)
    page.get_by_label("Key name").fill("\u200b\u200b")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("Some fields need changing:")).to_be_visible()
    expect(page.locator(".field-errors")).to_contain_text("name")
    expect(page.get_by_text("You have no API keys.")).to_be_visible()
