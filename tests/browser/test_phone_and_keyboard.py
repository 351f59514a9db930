"""A phone-width screen and a keyboard: the gallery pages by cursor as it scrolls, nothing
overflows sideways, focus is visible and the skip link works."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from local.config import StackState
from tests.browser.conftest import PHONE, Visitor, unique
from tests.support.client import Api, anonymous, sign_in
from tests.support.waiting import wait_for

pytestmark = pytest.mark.browser
FINAL = {"published", "in_review", "rejected", "failed", "removed"}


def publish_images(state: StackState, count: int) -> None:
    """`count` more published images, made through the API (steps 1: quick)."""
    api: Api | None = None
    for n in range(count):
        if n % 3 == 0:  # the quota here is 3 per user
            api = sign_in(state)
            api.accept_current_terms()
        assert api is not None
        body = {"prompt": f"a pebble beach {uuid.uuid4().hex[:6]}", "steps": 1, "seed": n}
        created = api.post("/generations", json=body).json()

        def settled(made: dict[str, Any] = created, client: Api = api) -> dict[str, Any] | None:
            found = client.get(f"/generations/{made['id']}").json()
            return found if found["status"] in FINAL else None

        assert wait_for(settled, timeout=90, what="an image")["status"] == "published"


def gallery_size(state: StackState) -> int:
    return len(anonymous(state).get("/gallery", params={"limit": 100}).json()["items"])


def no_sideways_scroll(visitor: Visitor) -> bool:
    return bool(visitor.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_phone_gallery_scrolls_through_pages_and_the_keyboard_reaches_everything(
    visitors: Any, web_stack: StackState
) -> None:
    publish_images(web_stack, max(0, 5 - gallery_size(web_stack)))
    total = gallery_size(web_stack)
    phone = visitors(PHONE)
    page = phone.page
    phone.open()
    # Two per page here: the sentinel keeps pulling pages while it is in view.
    expect(page.locator(".card")).to_have_count(total)
    assert sum("/gallery?" in u and "cursor=" in u for u in phone.requests) >= 2
    assert page.locator(".card img[loading=lazy]").count() == total
    assert no_sideways_scroll(phone)
    phone.shot("20-phone-gallery")

    # Keyboard: the skip link comes first, focus is visible, Enter lands in the content.
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "[document.activeElement.textContent, getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused == ["Skip to content", "solid"]
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # Past the introduction's links, the search and the order tabs, to the first image.
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('main') !== null")
        if page.evaluate("document.activeElement.matches('.card a')"):
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Download PNG")).to_be_visible()
    assert page.evaluate("document.activeElement.tagName") == "H1"  # focus follows the screen
    assert no_sideways_scroll(phone)
    phone.shot("21-phone-image-page", full_page=True)

    phone.sign_in(unique("pia"))
    expect(page.get_by_role("button", name="I accept these terms")).to_be_visible()
    assert no_sideways_scroll(phone)
    phone.shot("22-phone-terms")
    phone.accept_terms()
    assert no_sideways_scroll(phone)
    phone.shot("23-phone-create")
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Export your data")).to_be_visible()
    expect(page.get_by_role("button", name="Delete my account")).to_be_disabled()
    page.get_by_label("Type “delete my account” to confirm").fill("delete my account")
    expect(page.get_by_role("button", name="Delete my account")).to_be_enabled()
    phone.shot("24-phone-account", full_page=True)
