"""A creator names themselves on the Account page; the image page and their creator page show
the name instead of the opaque id, and a name someone else holds is refused plainly."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import unique
from tests.browser.test_journey import create_image

pytestmark = pytest.mark.browser


def set_name(page: Any, name: str) -> None:
    page.get_by_role("link", name="Account", exact=True).click()
    page.get_by_label("Display name", exact=True).fill(name)
    page.get_by_role("button", name="Save name").click()


def test_a_creator_names_themselves_and_a_taken_name_is_refused(visitors: Any) -> None:
    name = f"Ada Lumen {uuid.uuid4().hex[:6]}"
    creator = visitors()
    page = creator.page
    creator.open()
    creator.sign_in(unique("named"))
    creator.accept_terms()
    image_id = create_image(page, f"a lantern in the fog {uuid.uuid4().hex[:6]}")

    set_name(page, name)
    expect(page.get_by_text(f"Saved. Your images now show “{name}”.")).to_be_visible()
    creator.shot("30-display-name-saved")

    # Anyone sees the name on the image page and on the creator's page.
    visitor = visitors()
    visitor.open(f"#/image/{image_id}")
    expect(visitor.page.get_by_role("heading", name=f"Image by {name}")).to_be_visible()
    facts = visitor.page.locator("dl.facts")
    expect(facts).to_contain_text(name)
    expect(facts).not_to_contain_text("creator ")
    facts.get_by_role("link", name=name).click()
    expect(visitor.page.get_by_role("heading", name=f"Images by {name}")).to_be_visible()
    expect(visitor.page.locator(f'.grid a[href="#/image/{image_id}"]')).to_contain_text(name)
    visitor.shot("31-creator-page-named")

    # Another person cannot take it, not even in other capitals.
    other = visitors()
    other.open()
    other.sign_in(unique("copycat"))
    other.accept_terms()
    set_name(other.page, name.upper())
    expect(other.page.get_by_text("Another user has this display name.")).to_be_visible()
    expect(other.page.get_by_label("Display name", exact=True)).to_have_value(name.upper())
    # A name the prompt screen refuses is said plainly too.
    set_name(other.page, "Porn King")
    expect(other.page.get_by_text("This display name was refused")).to_be_visible()
    other.shot("32-display-name-refused")
