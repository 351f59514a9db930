"""The create view follows a generation over the page's WebSocket (issue 18): every state
arrives pushed, and not one GET /generations/{id} is made while the socket is open. A decision
about the signed-in user (a moderator removing their image) shows a notice on whatever page is
open, without a reload, linking to My decisions."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import unique
from tests.browser.test_journey import create_image
from tests.integration.test_live import connections_of
from tests.support.client import consented, publish_one, sign_in
from tests.support.waiting import wait_for

pytestmark = pytest.mark.browser
GENERATION_PATH = re.compile(r"^/generations/[^/]+$")


def test_the_create_view_updates_from_the_socket_without_polling(visitors: Any) -> None:
    creator = visitors()
    page = creator.page
    sockets: list[Any] = []
    pushed: list[dict[str, Any]] = []

    def opened(socket: Any) -> None:
        sockets.append(socket)
        socket.on("framereceived", lambda frame: pushed.append(json.loads(frame)))

    page.on("websocket", opened)
    creator.open()
    creator.sign_in(unique("lin"))
    expect(page).to_have_url(re.compile(r"#/terms$"))
    creator.accept_terms()
    expect(page.get_by_role("heading", name="Create an image")).to_be_visible()

    create_image(page, f"a lantern by the sea {unique('p')}")

    assert len(sockets) == 1 and not sockets[0].is_closed()
    assert "token=" in sockets[0].url
    statuses = [m["generation"]["status"] for m in pushed if m.get("type") == "generation"]
    assert statuses[-1] == "published" and "scanning" in statuses, statuses
    polled = [u for u in creator.requests if GENERATION_PATH.match(urlsplit(u).path)]
    assert polled == [], "the view polled while its socket was open"
    assert any(urlsplit(u).path == "/client-config" for u in creator.requests)


def test_the_create_view_polls_when_no_socket_can_be_opened(visitors: Any) -> None:
    creator = visitors()
    page = creator.page
    page.route_web_socket(re.compile(r".*"), lambda socket: socket.close(code=1011))
    creator.open()
    creator.sign_in(unique("mo"))
    expect(page).to_have_url(re.compile(r"#/terms$"))
    creator.accept_terms()

    create_image(page, f"a kite over dunes {unique('p')}")

    polled = [u for u in creator.requests if GENERATION_PATH.match(urlsplit(u).path)]
    assert polled, "without a socket the view must poll"


def test_a_decision_about_the_user_shows_a_notice_linking_to_my_decisions(visitors: Any) -> None:
    person = visitors()
    page = person.page
    username = unique("dec")
    api = sign_in(person.state, name=username)
    api.accept_current_terms()
    image_id = publish_one(api)["id"]
    moderator = consented(person.state, "moderators")

    person.open()
    person.sign_in(username)
    page.get_by_role("link", name="My images").click()
    expect(page.get_by_role("heading", name="My images")).to_be_visible()
    wait_for(
        lambda: connections_of(person.state, api.user_id or ""),
        timeout=30,
        what="the page's socket to connect",
    )
    page.evaluate("() => { window.stillTheSamePage = true; }")

    removed = moderator.post(
        f"/moderation/images/{image_id}/decision",
        json={"action": "remove", "reason": "Graphic violence.", "category": "violent"},
    )
    assert removed.status_code == 200, removed.text

    told = page.get_by_role("status").filter(has_text="New decision: Image removed")
    expect(told).to_be_visible(timeout=30_000)
    person.shot("live-decision-notice")
    assert page.evaluate("() => window.stillTheSamePage === true"), "the page was reloaded"
    link = told.get_by_role("link", name="Read the decision and how to appeal")
    expect(link).to_have_attribute("href", "#/decisions")
    link.click()
    expect(page.get_by_role("heading", name="My decisions")).to_be_visible()
    expect(page.get_by_text("Graphic violence.").first).to_be_visible()
    expect(told).to_have_count(0)
