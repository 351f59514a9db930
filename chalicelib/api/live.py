"""Live updates (issue 18): what a client needs to know to subscribe (GET /client-config), and
the WebSocket API's handlers.

Chalice wires WebSocket handlers only on the app itself (a blueprint's would not be wrapped
with the app's WebsocketAPI), so app.py declares them and hands each event to a function here.
A connect carries the access token in its `token` query parameter (a browser cannot set a
header on a WebSocket): it is verified as every token is, and anything short of a valid token
of an account that is not erased answers 401, so API Gateway refuses the upgrade. The token is
never logged: neither the event nor its query string reaches a log line.
"""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Blueprint, WebsocketEvent

bp = Blueprint(__name__)

ACCEPTED = {"statusCode": 200}
REFUSED = {"statusCode": 401}
UNAVAILABLE = {"statusCode": 503}
PONG = {"type": "pong"}


@bp.route("/client-config", methods=["GET"])
def client_config() -> dict[str, Any]:
    """What a client needs before it subscribes; anyone may read it."""
    from chalicelib.settings import get_settings

    return {"websocket_url": get_settings().websocket_url or None}


def on_connect(event: WebsocketEvent) -> dict[str, Any]:
    from chalicelib.services import accounts, identity, live
    from chalicelib.services.errors import Unauthorized, Unavailable

    token = (event.to_dict().get("queryStringParameters") or {}).get("token") or ""
    try:
        # An API key is not a credential here: authenticate names no route for it.
        caller = identity.authenticate(f"Bearer {token}" if token.strip() else None)
        accounts.load_profile(caller.user_id)
    except Unauthorized:
        return REFUSED
    except Unavailable:
        return UNAVAILABLE
    live.connect(event.connection_id, caller.user_id)
    return ACCEPTED


def on_message(event: WebsocketEvent) -> dict[str, Any]:
    """A client's `ping` (or `{"type": "ping"}`) is answered `{"type": "pong"}`, so it can tell
    a quiet socket from a dead one; anything else is ignored: the socket only pushes."""
    from chalicelib.services import live

    if _is_ping(event.body):
        live.reply(event.connection_id, PONG)
    return ACCEPTED


def on_disconnect(event: WebsocketEvent) -> dict[str, Any]:
    from chalicelib.services import live

    live.disconnect(event.connection_id)
    return ACCEPTED


def _is_ping(body: str) -> bool:
    if body.strip() == "ping":
        return True
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("type") == "ping"
