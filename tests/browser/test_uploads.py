"""Starting from a picture in the web client: the rights statement, the upload's progress, the
scan reaching ready, the strength, and the image made from it published; restyling a published
image from its page."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import published_by_someone, unique

pytestmark = pytest.mark.browser


def _picture(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), (40, 120, 200)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_creator_starts_from_a_picture_and_publishes_the_image(
    visitors: Any, tmp_path: Path
) -> None:
    creator = visitors()
    page = creator.page
    creator.open()
    creator.sign_in(unique("pia"))
    creator.accept_terms()
    picture = page.get_by_label("Picture", exact=True)

    # Too big: refused before anything is sent.
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024 + 1))
    picture.set_input_files(str(big))
    expect(page.get_by_text("pictures may be at most 10 MB")).to_be_visible()

    # Nothing is sent until the statement is ticked.
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not a picture " * 100)
    picture.set_input_files(str(broken))
    expect(page.locator(".upload-state")).to_have_text(
        "Tick the statement above to upload the picture."
    )
    assert not [u for u in creator.requests if u.endswith("/uploads")]
    page.get_by_label("my own work").check()
    page.get_by_label(re.compile("I may use this picture")).check()

    # Sent once ticked; the check refuses a file that is no picture, and says so plainly.
    expect(
        page.get_by_text("it is not a PNG, JPEG or WebP picture this service can read")
    ).to_be_visible(timeout=90_000)
    expect(page.locator(".upload-state")).to_have_text("Refused")

    picture.set_input_files(str(_picture(tmp_path / "start.png")))
    expect(page.locator("#picture-progress")).to_have_js_property("value", 1, timeout=30_000)
    expect(page.locator(".upload-state")).to_have_text(
        "Ready: the picture passed the check", timeout=90_000
    )
    strength = page.get_by_label(re.compile("^Strength"))
    strength.fill("0.5")
    expect(page.locator("output[for=strength]")).to_have_text("0.5")

    prompt = f"the same harbour in watercolour {unique('p')}"
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_label("Steps (optional)").fill("4")  # strength x steps: at least one step
    with page.expect_request(re.compile(r"/generations$")) as sent:
        page.get_by_role("button", name="Create", exact=True).click()
    body = sent.value.post_data_json
    assert body["strength"] == 0.5 and body["init_image"]
    # The size followed the picture: none sent, so the 96 x 64 picture keeps its landscape
    # shape (the nearest preset, 768 x 448) instead of the default square.
    assert "width" not in body and "height" not in body
    made = sent.value.response().json()
    assert (made["width"], made["height"]) == (768, 448)
    expect(page.get_by_text("Published.")).to_be_visible(timeout=120_000)
    creator.shot("uploads-01-published-from-a-picture", full_page=True)


def test_a_published_image_is_restyled_from_its_page(visitors: Any) -> None:
    image_id, _ = published_by_someone(visitors)
    creator = visitors()
    page = creator.page
    creator.open()
    creator.sign_in(unique("res"))
    creator.accept_terms()
    creator.open(f"#/image/{image_id}")
    page.get_by_role("link", name="Restyle").click()
    expect(page).to_have_url(re.compile(r"#/create\?restyle="))
    expect(page.get_by_text("Restyling")).to_be_visible()
    page.get_by_label("Prompt", exact=True).fill(f"as a linocut {unique('p')}")
    page.get_by_label("Steps (optional)").fill("4")  # strength x steps: at least one step
    with page.expect_request(re.compile(r"/generations$")) as sent:
        page.get_by_role("button", name="Create", exact=True).click()
    assert sent.value.post_data_json["init_image"] == image_id
    expect(page.get_by_text("Published.")).to_be_visible(timeout=120_000)
