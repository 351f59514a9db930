"""Browser tests: Debian's Chromium driven by Playwright against a local stack of their own.

Every page a test opens records the requests it makes and the errors it logs, so a test can
assert that the client reaches nothing beyond the local stack and that nothing broke (a script
error, a Content-Security-Policy violation).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.config import StackState
from tests.support.client import sign_in
from tests.support.stack import running_stack
from tests.support.waiting import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1200, "height": 900}
PHONE = {"width": 390, "height": 844}
# The browser logs every 4xx/5xx fetch as a console error; refusals are part of these tests.
EXPECTED_CONSOLE = ("Failed to load resource: the server responded with a status of",)

IMAGES_SHOWN = """() => [...document.images]
  .filter((img) => img.getBoundingClientRect().top < window.innerHeight)
  .every((img) => img.complete)"""
# Every form control has a name, every image a text alternative.
UNLABELLED = """() => [
  ...[...document.querySelectorAll('input, select, textarea, button')].filter((el) =>
    !el.labels?.length && !el.getAttribute('aria-label') && !el.textContent.trim()),
  ...[...document.images].filter((img) => !img.hasAttribute('alt')),
].map((el) => el.outerHTML.slice(0, 120))"""


@pytest.fixture(scope="session")
def web_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackState]:
    """A stack of their own: these tests revise the terms, switch generation off and on, and
    need an image in review after one report."""
    env = {
        "OBJEKTIFY_REPORT_THRESHOLD": "1",
        "OBJEKTIFY_FLAGS_CACHE_SECONDS": "1",
        "OBJEKTIFY_TERMS_CACHE_SECONDS": "1",
        "OBJEKTIFY_QUOTA_LIMIT": "3",
        "OBJEKTIFY_WEB_PAGE_SIZE": "2",
    }
    with running_stack(tmp_path_factory.mktemp("web"), env) as state:
        yield state


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (make test installs it)")
    with sync_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    if SCREENSHOTS.exists() and not os.environ.get("OBJEKTIFY_KEEP_SCREENSHOTS"):
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@dataclass
class Visitor:
    """One person: a browser context of their own (storage, session), one page."""

    state: StackState
    context: Any
    page: Any
    shots: Path
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.state.api_url

    def open(self, fragment: str = "") -> None:
        self.page.goto(f"{self.url}/{fragment}")

    def shot(self, name: str, full_page: bool = False) -> None:
        """A screenshot of the screen as it settled, after checking its controls' labels."""
        page = self.page
        page.wait_for_load_state("networkidle")
        # Polled from here: wait_for_function would evaluate a string, which the page's CSP
        # (rightly) refuses. Lazy images below the fold do not load until scrolled to.
        deadline = time.monotonic() + 10
        while not page.evaluate(IMAGES_SHOWN) and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert page.evaluate(UNLABELLED) == [], f"{name}: unlabelled controls or images"
        page.screenshot(path=str(self.shots / f"{name}.png"), full_page=full_page)

    def sign_in(self, username: str, *groups: str) -> None:
        page = self.page
        page.get_by_role("link", name="Sign in", exact=True).first.click()
        page.get_by_label("User name").fill(username)
        for group in groups:
            page.get_by_label(group, exact=True).check()
        page.get_by_role("button", name="Sign in", exact=True).click()

    def accept_terms(self) -> None:
        accept = self.page.get_by_role("button", name="I accept these terms")
        accept.click()
        self.page.get_by_role("heading", name="Create an image").wait_for()

    def third_party(self) -> list[str]:
        """Requests to anything but the local stack's loopback servers."""
        return [u for u in self.requests if urlsplit(u).hostname not in ("127.0.0.1", None)]

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not e.startswith(EXPECTED_CONSOLE)]


@pytest.fixture
def visitors(browser: Any, web_stack: StackState, screenshots: Path) -> Iterator[Any]:
    """visitors(viewport=DESKTOP, service_workers="block") → a new Visitor; each is checked and
    closed at the end."""
    made: list[Visitor] = []

    def make(viewport: dict[str, int] = DESKTOP, service_workers: str = "block") -> Visitor:
        # The service worker only keeps the shell for offline use (tests/browser/test_pwa.py
        # lets it run); elsewhere every request goes to the stack, as the tests count them.
        context = browser.new_context(
            viewport=viewport, accept_downloads=True, service_workers=service_workers
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        visitor = Visitor(web_stack, context, page, screenshots)
        page.on("request", lambda request: visitor.requests.append(request.url))
        page.on("console", lambda m: m.type == "error" and visitor.errors.append(m.text))
        page.on("pageerror", lambda error: visitor.errors.append(f"page error: {error}"))
        made.append(visitor)
        return visitor

    yield make
    try:
        for visitor in made:
            assert visitor.third_party() == [], "the client reached beyond the local stack"
            assert visitor.unexpected_errors() == [], "the page logged errors"
    finally:
        for visitor in made:
            visitor.context.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{int(time.time() * 1000) % 10_000_000}"


def published_by_someone(visitors: Any) -> tuple[str, str]:
    """An image published through the API (the journey test covers creating in the client)."""
    state = visitors().state
    creator = sign_in(state)
    creator.accept_current_terms()
    prompt = f"a mountain hut {uuid.uuid4().hex[:6]}"
    created = creator.post("/generations", json={"prompt": prompt, "steps": 1}).json()

    def published() -> bool | None:
        status = creator.get(f"/generations/{created['id']}").json()["status"]
        assert status in ("queued", "scanning", "published"), status
        return status == "published" or None

    wait_for(published, timeout=90, what="the image to publish")
    return str(created["id"]), prompt
