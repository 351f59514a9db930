"""Every refusal of POST /generations reaches the person as a plain message they can act on."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from local.config import StackState
from tests.browser.conftest import unique
from tests.support.client import sign_in

pytestmark = pytest.mark.browser


def submit(page: Any, prompt: str, seed: str = "") -> None:
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_label("Seed (optional)").fill(seed)
    page.get_by_role("button", name="Create", exact=True).click()


def test_each_refusal_says_why_and_what_to_do(visitors: Any, web_stack: StackState) -> None:
    user = visitors()
    user.open("#/sign-in")
    user.sign_in(unique("rue"))
    user.accept_terms()
    page = user.page
    messages = page.locator("form.create > .messages")
    user_id = page.evaluate("""async () => {
      const token = JSON.parse(sessionStorage.getItem('objektify.session')).token;
      return (await (await fetch('/me', {headers: {Authorization: `Bearer ${token}`}})).json())
        .user_id;
    }""")

    submit(page, "a beheading at dawn")
    expect(messages).to_contain_text("This prompt was refused: it asks for graphic violence.")
    user.shot("12-refusal-prompt-rejected")

    submit(page, "a calm sea", seed="99999999999")
    expect(messages).to_contain_text("Some fields need changing")
    expect(messages.locator(".field-errors")).to_contain_text("seed")
    expect(page.get_by_label("Seed (optional)")).to_have_attribute("aria-invalid", "true")

    operator = sign_in(web_stack, "admins")
    message = "Back after maintenance at noon."
    assert operator.put("/admin/flags/generation", json={"enabled": False, "message": message}).ok
    try:
        time.sleep(1.5)  # every process sees a switch within OBJEKTIFY_FLAGS_CACHE_SECONDS
        submit(page, "a calm sea")
        expect(messages).to_contain_text(f"Switched off for now. {message}")
        user.shot("13-refusal-switched-off")
    finally:
        assert operator.put("/admin/flags/generation", json={"enabled": True}).ok
    time.sleep(1.5)

    moderator = sign_in(web_stack, "moderators")
    path = f"/moderation/users/{user_id}/restriction"
    assert moderator.post(path, json={"action": "suspend", "reason": "cooling off"}).ok
    submit(page, "a calm sea")
    expect(messages).to_contain_text("Your account is suspended")
    assert moderator.post(path, json={"action": "restore", "reason": "done"}).ok

    # The quota here is 3 accepted generations: the fourth waits, with a countdown.
    for n in range(3):
        submit(page, f"a calm sea, study {n}")
        expect(page.locator("section.progress .prompt")).to_have_text(f"a calm sea, study {n}")
    submit(page, "a calm sea, study 4")
    expect(messages).to_contain_text("You have reached the creation limit")
    expect(messages.locator(".countdown")).to_have_text(re.compile(r"^\d+ (min \d\d )?s$"))
    expect(page.get_by_role("button", name="Create", exact=True)).to_be_disabled()
    user.shot("14-refusal-rate-limited")
