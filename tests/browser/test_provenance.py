"""Content Credentials in the client: an image page says who signed it and with which model,
and anyone can check a file on the "Check an image" page, even one whose metadata is gone."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, published_by_someone
from tests.support.client import anonymous

pytestmark = pytest.mark.browser


def stripped_copy(state: Any, image_id: str, out: Path) -> Path:
    """The full-size download as a screenshot would keep it: pixels only, re-encoded as JPEG."""
    link = anonymous(state).get(f"/gallery/{image_id}/download", allow_redirects=False)
    download = requests.get(link.headers["Location"], timeout=30)
    download.raise_for_status()
    pixels = Image.open(io.BytesIO(download.content)).convert("RGB")
    pixels.save(out, "JPEG", quality=85)
    assert b"c2pa" not in out.read_bytes() and b"trainedAlgorithmicMedia" not in out.read_bytes()
    return out


def test_an_image_page_shows_its_credentials_and_a_stripped_copy_is_recognised(
    visitors: Any, tmp_path: Path
) -> None:
    image_id, _ = published_by_someone(visitors)
    visitor = visitors()
    page = visitor.page
    visitor.open(f"#/image/{image_id}")
    credentials = page.locator("dd.credentials")
    expect(credentials).to_contain_text("signed by Objektify, made with")
    model = page.locator("dl.facts dt", has_text="Model").locator("xpath=following-sibling::dd[1]")
    expect(credentials).to_contain_text(model.inner_text())

    page.get_by_role("link", name="Check an image").first.click()
    expect(page.get_by_role("heading", name="Check an image")).to_be_visible()
    page.get_by_label("Image (PNG, JPEG or WebP").set_input_files(
        stripped_copy(visitor.state, image_id, tmp_path / "screenshot.jpg")
    )
    page.get_by_role("button", name="Check").click()
    result = page.locator(".check-result")
    expect(result).to_contain_text("Made with Objektify")
    expect(result.locator("time")).to_have_count(1)  # when it was made
    assert "[object" not in result.inner_text()
    expect(result.locator("[data-evidence=fingerprint]")).to_have_count(1)
    visitor.shot("30-provenance-check")
    result.get_by_role("link", name="See it in the gallery").click()
    expect(page).to_have_url(f"{visitor.url}/#/image/{image_id}")


def test_a_picture_made_elsewhere_is_not_claimed_on_a_phone(visitors: Any, tmp_path: Path) -> None:
    visitor = visitors(PHONE)
    page = visitor.page
    visitor.open("#/check")
    texture = np.random.default_rng(7).integers(0, 256, (384, 384, 3), dtype=np.uint8)
    elsewhere = tmp_path / "elsewhere.png"
    Image.fromarray(texture).save(elsewhere)
    page.get_by_label("Image (PNG, JPEG or WebP").set_input_files(elsewhere)
    page.get_by_role("button", name="Check").click()
    expect(page.locator(".check-result")).to_contain_text("Not found")
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_bytes(b"<html>not a picture</html>")
    page.get_by_label("Image (PNG, JPEG or WebP").set_input_files(not_an_image)
    page.get_by_role("button", name="Check").click()
    expect(page.locator(".check-result")).to_contain_text("not a PNG, JPEG or WebP image")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    visitor.shot("31-provenance-check-phone")
