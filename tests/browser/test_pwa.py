"""The client installs as a progressive web app: a manifest with icons, a service worker that
keeps the shell, and an offline page when even the shell is not at hand."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.support.waiting import wait_for

pytestmark = pytest.mark.browser

CONTROLLED = "() => navigator.serviceWorker.controller !== null"


def test_the_client_installs_and_opens_offline(visitors: Any) -> None:
    phone = visitors(PHONE, service_workers="allow")
    page = phone.page
    phone.open()
    expect(page.get_by_role("heading", name="Gallery")).to_be_visible()

    href = page.locator("link[rel=manifest]").get_attribute("href")
    assert href
    manifest = json.loads(page.request.get(phone.url + href).text())
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = set()
    for icon in manifest["icons"]:
        answer = page.request.get(phone.url + icon["src"])
        assert answer.ok and answer.headers["content-type"] == icon["type"], icon
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes  # what browsers ask of an installable app

    # The worker takes the page over once it is active; the reload is then served through it.
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    wait_for(lambda: page.evaluate(CONTROLLED) or None, timeout=30, what="the service worker")

    phone.context.set_offline(True)
    page.reload()
    # The shell opens from the cache and says plainly that the service is out of reach.
    expect(page.get_by_role("heading", name="Gallery")).to_be_visible()
    expect(page.get_by_text("could not be reached")).to_be_visible()
    phone.shot("90-phone-offline-shell")

    # Without even the shell at hand, a navigation gets the offline page.
    page.evaluate(
        "() => caches.keys().then((names) => "
        "Promise.all(names.map((n) => caches.open(n).then((c) => c.delete('/')))))"
    )
    page.reload()
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    phone.shot("91-phone-offline-page")
    phone.context.set_offline(False)
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", name="Gallery")).to_be_visible()
    # The failed fetches while offline are expected; nothing else may have been logged.
    phone.errors[:] = [e for e in phone.errors if "ERR_INTERNET_DISCONNECTED" not in e]
