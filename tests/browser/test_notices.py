"""Someone with no account sends a notice from an image page, follows it through its status
link, sees the outcome once a moderator has decided, and finds it counted in the public
transparency report."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import published_by_someone, unique

pytestmark = pytest.mark.browser


def test_a_visitor_without_an_account_sends_a_notice_and_follows_it(visitors: Any) -> None:
    image_id, prompt = published_by_someone(visitors)
    visitor = visitors()
    page = visitor.page
    visitor.open(f"#/image/{image_id}")
    form = page.locator("form.notice-form")
    form.get_by_label("What is wrong").select_option("copyright")
    form.get_by_label("Explain why").fill("This is my photograph of the hut, taken in 2019.")
    form.get_by_label("Your name").fill("Rita Holder")
    form.get_by_label("Your e-mail").fill("rita@example.org")
    form.get_by_role("button", name="Send notice").click()  # the browser asks for good faith
    expect(page.get_by_text("Your notice was received")).to_have_count(0)
    form.get_by_label("I believe in good faith").check()
    visitor.shot("12-notice-form", full_page=True)
    form.get_by_role("button", name="Send notice").click()
    expect(page.get_by_text("Your notice was received")).to_be_visible()
    page.get_by_role("link", name="the notice's status").click()
    expect(page.get_by_role("heading", name="Your notice")).to_be_visible()
    expect(page.locator(".notice-status")).to_contain_text("waiting for a moderator")
    status_page = page.url

    moderator = visitors()
    moderator.open("#/moderation")
    moderator.sign_in(unique("moe"), "moderators")
    moderator.accept_terms()
    moderator.open("#/moderation")
    item = moderator.page.locator(".queue-item", has_text=prompt)
    expect(item).to_contain_text("copyright: This is my photograph")
    item.get_by_label("Reason").fill("the notifier's photograph")
    item.get_by_label("Category (when removing)").select_option("copyright")
    item.get_by_role("button", name="Remove").click()
    expect(item).to_contain_text("Removed.")

    page.goto(status_page)
    page.reload()
    expect(page.locator(".notice-status")).to_contain_text("The image was removed.")
    expect(page.locator(".notice-status")).to_contain_text("copyright law")
    visitor.shot("13-notice-decided")

    # The public transparency report counts it.
    page.get_by_role("link", name="Transparency", exact=True).click()
    notices = page.locator("table.counts", has_text="Notices by category")
    expect(notices.get_by_role("row", name="copyright")).to_be_visible()
    expect(page.locator("table.counts", has_text="What started them")).to_contain_text("Notices")
    visitor.shot("14-transparency", full_page=True)

    # The privacy policy the terms refer to is a link away.
    page.get_by_role("link", name="Terms", exact=True).click()
    page.get_by_role("link", name="the Privacy Policy").click()
    expect(page.get_by_role("heading", name="Privacy Policy", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Your rights.")
