"""The whole journey through the web client: a visitor becomes a creator, another person
reports the image, a moderator removes it, an operator revises the terms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Visitor, unique

pytestmark = pytest.mark.browser


def create_image(page: Any, prompt: str) -> str:
    """Submit a prompt on the Create screen, wait for it to publish; its gallery id."""
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_label("Seed (optional)").fill("7")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator(".steps")).to_contain_text("Queued")
    expect(page.get_by_text("Published.")).to_be_visible(timeout=90_000)
    result = page.locator(".result img")
    expect(result).to_have_attribute("alt", prompt)
    assert result.evaluate("(img) => img.complete && img.naturalWidth") > 0
    href = page.get_by_role("link", name="Open its gallery page").get_attribute("href")
    return href.rsplit("/", 1)[1]


def sign_up_creator(visitors: Any, prompt: str) -> tuple[Visitor, str]:
    creator = visitors()
    page = creator.page
    creator.open()
    expect(page.get_by_role("heading", name="Gallery")).to_be_visible()
    creator.shot("01-gallery-anonymous")
    page.get_by_role("link", name="Read the terms").click()
    expect(page.get_by_role("link", name="Sign in to accept and create")).to_be_visible()
    creator.sign_in(unique("ada"))
    expect(page).to_have_url(re.compile(r"#/terms$"))
    expect(page.get_by_text("Please read and accept the terms below")).to_be_visible()
    creator.shot("02-terms-first-visit")
    creator.accept_terms()
    image_id = create_image(page, prompt)
    creator.shot("03-create-published", full_page=True)
    return creator, image_id


def test_visitor_creates_reports_are_moderated_and_revised_terms_come_back(visitors: Any) -> None:
    prompt = f"a lighthouse at dusk {unique('p')}"
    creator, image_id = sign_up_creator(visitors, prompt)
    page = creator.page

    # The gallery shows it, newest first; its page has everything and a working download.
    page.get_by_role("link", name="Gallery", exact=True).click()
    card = page.get_by_role("link", name=prompt)
    expect(card).to_be_visible()
    assert page.locator(".card img").first.get_attribute("alt") == prompt
    creator.shot("04-gallery-signed-in")
    card.click()
    expect(page.get_by_role("heading", name="Your image")).to_be_visible()
    expect(page.locator(".artwork .prompt")).to_have_text(prompt)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PNG").click()
    assert Path(download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert download.value.suggested_filename.endswith(".png")
    creator.shot("05-image-page-own")

    # Another person reports it; one report is enough here to take it into review.
    reporter = visitors()
    reporter.open(f"#/image/{image_id}")
    expect(
        reporter.page.get_by_role("heading", name=re.compile("Image by creator"))
    ).to_be_visible()
    reporter.sign_in(unique("rex"))
    reporter.accept_terms()
    reporter.open(f"#/image/{image_id}")
    reporter.page.get_by_label("Reason").select_option("violent")
    reporter.page.get_by_label("Note for the moderators (optional)").fill("looks gory")
    reporter.shot("06-report-form")
    reporter.page.get_by_role("button", name="Send report").click()
    expect(reporter.page.get_by_text("Your report was received")).to_be_visible()
    reporter.page.get_by_role("link", name="Gallery", exact=True).click()
    expect(reporter.page.get_by_role("heading", name="Gallery")).to_be_visible()
    expect(reporter.page.get_by_role("link", name=prompt)).to_have_count(0)

    # Its creator sees that it awaits a decision, and cannot delete it before that.
    page.get_by_role("link", name="My images", exact=True).click()
    waiting = page.locator("li.generation", has_text=prompt)
    expect(waiting.locator(".badge")).to_have_text("In review")
    expect(waiting).to_contain_text("You can delete it once a moderator has decided.")
    expect(waiting.get_by_role("button", name="Delete")).to_have_count(0)
    page.get_by_role("link", name="Gallery", exact=True).click()

    # A moderator finds it in the queue and removes it, with a reason; restricts and restores.
    moderator = visitors()
    moderator.open("#/moderation")
    moderator.sign_in(unique("mona"), "moderators")
    moderator.page.get_by_role("link", name="Moderation", exact=True).click()
    item = moderator.page.locator(".queue-item", has_text=prompt)
    expect(item).to_be_visible()
    expect(item.locator("img")).to_have_attribute("alt", f"Under review: {prompt}")
    expect(item).to_contain_text("1 (violent)")
    moderator.shot("07-moderation-queue", full_page=True)
    item.get_by_role("button", name="Restrict this creator…").click()
    item.get_by_label("Reason").fill("graphic violence")
    item.get_by_label("Category (when removing)").select_option("violent")
    item.get_by_role("button", name=re.compile("^Remove")).click()
    expect(item).to_contain_text("Removed.")
    restrict = moderator.page.locator("form.restriction")
    expect(restrict.get_by_label("User id")).to_have_value(creator_id(creator))
    restrict.get_by_label("Reason", exact=True).fill("repeated violations")
    restrict.get_by_role("button", name="Apply").click()
    expect(restrict).to_contain_text("is now suspended")
    restrict.get_by_label("Action").select_option("restore")
    restrict.get_by_label("Reason", exact=True).fill("appeal granted")
    restrict.get_by_role("button", name="Apply").click()
    expect(restrict).to_contain_text("is now active")
    moderator.page.get_by_role("link", name="audit log").click()
    expect(moderator.page.get_by_role("cell", name="remove", exact=True).first).to_be_visible()
    moderator.shot("08-audit-log")

    # Gone from the gallery for everyone; the creator sees why in My images.
    page.get_by_role("link", name="My images").click()
    row = page.locator(".generation", has_text=prompt)
    expect(row.locator(".badge")).to_have_text("Removed")
    expect(row).to_contain_text("Removed by a moderator: graphic violence")
    creator.shot("09-my-images")
    page.goto(f"{creator.url}/#/image/{image_id}")
    expect(page.locator("main [role=alert]")).to_contain_text("Not found")

    # The creator reads why under My decisions and appeals; the moderator who removed it may
    # not decide the appeal, another one reverses it, and the image is back.
    page.get_by_role("link", name="My decisions").click()
    removal = page.locator("li.statement[data-decision=content_removed]")
    expect(removal).to_contain_text("graphic violence")
    expect(removal).to_contain_text("decided by a person")
    removal.get_by_role("button", name="Appeal this decision").click()
    removal.get_by_label("Why the decision is wrong").fill("A lighthouse in a storm, no gore.")
    removal.get_by_role("button", name="Send appeal").click()
    expect(removal).to_contain_text("Appeal filed")
    creator.shot("09b-my-decisions", full_page=True)
    moderator.open("#/appeals")
    appeal = moderator.page.locator(".appeal-item", has_text="A lighthouse in a storm")
    appeal.get_by_label("Reason").fill("on second look")
    appeal.get_by_role("button", name="Reverse").click()
    expect(appeal).to_contain_text("another moderator will")
    colleague = visitors()
    colleague.open("#/appeals")
    colleague.sign_in(unique("nils"), "moderators")
    colleague.accept_terms()
    colleague.open("#/appeals")
    appeal = colleague.page.locator(".appeal-item", has_text="A lighthouse in a storm")
    expect(appeal.locator(".appeal-explanation")).to_have_text("A lighthouse in a storm, no gore.")
    look_up = colleague.page.locator("form.look-up")
    look_up.get_by_label("Image id").fill(image_id)
    look_up.get_by_label("Why you look").fill("deciding the appeal")
    look_up.get_by_role("button", name="Look up").click()
    expect(look_up.locator(".looked-up-status")).to_have_text("removed")
    colleague.shot("09c-appeals", full_page=True)
    appeal.get_by_label("Reason").fill("a storm, not violence")
    appeal.get_by_role("button", name="Reverse").click()
    expect(colleague.page.locator("main").get_by_text("Reversed.", exact=True)).to_be_visible()
    page.goto(f"{creator.url}/#/image/{image_id}")
    expect(page.get_by_role("heading", name="Your image")).to_be_visible()
    page.get_by_role("link", name="My decisions").click()
    expect(page.locator("li.statement[data-decision=decision_reversed]")).to_contain_text(
        "a storm, not violence"
    )
    page.get_by_role("link", name="Gallery", exact=True).click()

    # An operator revises the terms; the creator is asked again and sees what changed.
    operator = visitors()
    operator.open("#/admin")
    operator.sign_in(unique("otto"), "admins")
    operator.page.get_by_role("link", name="Operations").click()
    text = operator.page.get_by_label("Terms text")
    text.fill(text.input_value() + "\nUsers must label AI images as such when they share them.")
    operator.page.get_by_role("button", name="Publish as a new version").click()
    expect(operator.page.get_by_text("Published version 2.")).to_be_visible()
    operator.shot("10-operations", full_page=True)

    expect(poll_terms_screen(creator)).to_be_visible()
    diff = page.locator(".diff")
    expect(diff).to_contain_text("What changed since version 1")
    expect(diff.locator(".added")).to_contain_text("Users must label AI images")
    creator.shot("11-terms-revised")
    creator.accept_terms()


def creator_id(visitor: Visitor) -> str:
    return str(
        visitor.page.evaluate("""async () => {
      const token = JSON.parse(sessionStorage.getItem('objektify.session')).token;
      const me = await fetch('/me', {headers: {Authorization: `Bearer ${token}`}});
      return (await me.json()).user_id;
    }""")
    )


def poll_terms_screen(visitor: Visitor) -> Any:
    """Reload until the revision reaches /me (caches hold it for a second or so)."""
    button = visitor.page.get_by_role("button", name="I accept these terms")
    for _ in range(20):
        visitor.page.reload()
        visitor.page.get_by_role("heading").first.wait_for()
        if visitor.page.url.endswith("#/terms") and button.is_visible():
            break
        visitor.page.wait_for_timeout(500)
    return button
