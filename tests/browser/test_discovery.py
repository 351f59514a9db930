"""Creating with every control, remixing, liking, the gallery's orders and search, on a desktop
and on a phone: what a person does to make, find and build on images."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Visitor, unique
from tests.browser.test_phone_and_keyboard import no_sideways_scroll

pytestmark = pytest.mark.browser


def gallery_id(page: Any, index: int) -> str:
    """The gallery id of the index-th result on the Create screen, once it is published."""
    result = page.locator(".progress .one").nth(index)
    expect(result.get_by_text("Published.")).to_be_visible(timeout=120_000)
    href = result.get_by_role("link", name="Open its gallery page").get_attribute("href")
    return str(href).rsplit("/", 1)[1]


def start(visitors: Any, viewport: dict[str, int], name: str) -> Visitor:
    person = visitors(viewport)
    person.open()
    person.sign_in(unique(name))
    person.accept_terms()
    return person


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_create_with_controls_then_remix_like_sort_and_search(
    visitors: Any, viewport: dict[str, int]
) -> None:
    tag = "v" + "".join(c for c in uuid.uuid4().hex if c.isalpha())[:6]
    prompt = f"a glass orchard {tag} at dusk"
    creator = start(visitors, viewport, "maker")
    page = creator.page
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_label("How many").select_option("2")
    page.get_by_label("Seed (optional)").fill("41")
    page.get_by_label("Steps (optional)").fill("2")
    page.get_by_text("More settings").click()
    page.get_by_label("Guidance").fill("9")
    page.get_by_label("Scheduler").select_option("ddim")
    assert no_sideways_scroll(creator)
    page.get_by_role("button", name="Create", exact=True).click()
    first, second = gallery_id(page, 0), gallery_id(page, 1)
    creator.shot(f"40-create-two-{viewport['width']}", full_page=True)

    # The image page says how it was made: the second image took the next seed.
    page.goto(f"{creator.url}/#/image/{second}")
    facts = page.locator("dl.facts")
    for shown in ("Seed42", "Steps2", "Guidance9", "Schedulerddim"):
        expect(facts).to_contain_text(shown)
    assert no_sideways_scroll(creator)

    # Remix: the form starts from the image's settings; the new image links back to it.
    page.get_by_role("link", name="Remix").click()
    expect(page.get_by_role("heading", name="Remix an image")).to_be_visible()
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(prompt)
    expect(page.get_by_label("Scheduler")).to_have_value("ddim")
    page.get_by_label("Prompt", exact=True).fill(f"a glass orchard {tag} at dawn")
    page.get_by_role("button", name="Create the remix").click()
    remix = gallery_id(page, 0)
    page.goto(f"{creator.url}/#/image/{remix}")
    expect(page.locator("dl.facts")).to_contain_text("Remix of")
    page.get_by_role("link", name="the original image").click()
    expect(page).to_have_url(f"{creator.url}/#/image/{second}")
    expect(page.locator("dl.facts")).to_contain_text("Remixes1")
    creator.shot(f"41-image-parameters-{viewport['width']}", full_page=True)

    # Someone else likes the first image: the count and the pressed button stay on a reload.
    fan = start(visitors, viewport, "fan")
    fan.page.goto(f"{fan.url}/#/image/{first}")
    like = fan.page.get_by_role("button", name="Like")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(fan.page.locator(".like-count")).to_have_text("1 like")
    fan.page.reload()
    expect(fan.page.get_by_role("button", name="Liked")).to_have_attribute("aria-pressed", "true")
    fan.shot(f"42-liked-{viewport['width']}")

    # Top of all time puts the liked image before its unliked twin.
    fan.page.goto(f"{fan.url}/#/")
    fan.page.get_by_role("link", name="Top of all time").click()
    liked = fan.page.locator(f'.grid a[href="#/image/{first}"]')
    expect(liked).to_be_visible()
    cards = fan.page.locator(".grid .card a")
    hrefs = [cards.nth(i).get_attribute("href") for i in range(cards.count())]
    if f"#/image/{second}" in hrefs:
        assert hrefs.index(f"#/image/{first}") < hrefs.index(f"#/image/{second}")
    expect(liked).to_contain_text("1 like")

    # Search finds the batch and the remix by their shared word, and not by a word they lack.
    fan.page.get_by_label("Search prompts").fill(f"orchard {tag.upper()}")
    fan.page.get_by_role("button", name="Search").click()
    heading = f"Images matching “orchard {tag.upper()}”"
    expect(fan.page.get_by_role("heading", name=heading)).to_be_visible()
    found = fan.page.locator(".grid .card a")
    expect(found).to_have_count(3)
    fan.page.get_by_label("Search prompts").fill(f"{tag} dawn")
    fan.page.get_by_role("button", name="Search").click()
    expect(fan.page.locator(".grid .card a")).to_have_count(1)
    expect(fan.page.locator(f'.grid a[href="#/image/{remix}"]')).to_be_visible()
    assert no_sideways_scroll(fan)
    fan.shot(f"43-search-{viewport['width']}")
