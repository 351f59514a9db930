"""The create view follows a generation over the page's WebSocket (issue 18): every state
arrives pushed, and not one GET /generations/{id} is made while the socket is open."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import unique
from tests.browser.test_journey import create_image

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
