"""Live updates (issue 18): the WebSocket connections users hold, and pushing to them.

A signed-in client opens a WebSocket with its access token; the connect handler records the
connection under its owner (`connect`), the disconnect handler forgets it (`disconnect`), and
whatever changes a user's things calls `push(owner, message)`, which sends the JSON to each of
the owner's open connections through API Gateway's @connections API. A connection API Gateway
answers 410 Gone for is forgotten there and then; any other failure is logged and does not keep
the message from the owner's other connections.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters import clock, connections_api
from chalicelib.models.connections import OWNER, LiveConnection, connection_pk, owner_pk
from chalicelib.observability import count, logger
from chalicelib.settings import get_settings

# Connections of one user sent to side by side (the @connections client keeps 32 open).
PUSH_WORKERS = 16


def connect(connection_id: str, owner_id: str) -> None:
    """Record an open connection of `owner_id`; both of its items expire when API Gateway
    would close it anyway."""
    now = clock.now()
    expires = now + timedelta(seconds=get_settings().websocket_connection_seconds)
    LiveConnection(
        connection_pk(connection_id), OWNER, user_id=owner_id, connected_at=now, expires_at=expires
    ).save()
    LiveConnection(
        owner_pk(owner_id), connection_id, user_id=owner_id, connected_at=now, expires_at=expires
    ).save()


def disconnect(connection_id: str) -> None:
    """Forget a connection (closed by either side, or gone); nothing to do if it is unknown."""
    try:
        lookup = LiveConnection.get(connection_pk(connection_id), OWNER, consistent_read=True)
    except DoesNotExist:
        return
    _forget(lookup.user_id, connection_id)


def connections_of(owner_id: str) -> list[str]:
    """The ids of the owner's open connections (an expired one not yet deleted is skipped)."""
    now = clock.now()
    return [
        item.sk
        for item in LiveConnection.query(owner_pk(owner_id), consistent_read=True)
        if item.expires_at is None or item.expires_at > now
    ]


def push(owner_id: str, message: dict[str, Any]) -> None:
    """Send `message` as JSON to every open connection of `owner_id`; a gone one is forgotten,
    any other failure is logged and the next connection still gets the message. A user with
    several connections gets them sent side by side (PostToConnection is one HTTPS round trip
    each: in turn, a few tabs and phones would take the time a change should reach them in)."""
    data = json.dumps(message, separators=(",", ":"), default=str).encode()
    connections = connections_of(owner_id)
    if len(connections) <= 1:
        outcomes = [_post(connection_id, data) for connection_id in connections]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(PUSH_WORKERS, len(connections))) as pool:
            outcomes = list(pool.map(lambda connection_id: _post(connection_id, data), connections))
    for connection_id, outcome in zip(connections, outcomes, strict=True):
        if outcome is None:
            count("LivePushed")
        elif isinstance(outcome, connections_api.ConnectionGone):
            _forget(owner_id, connection_id)
            count("LiveConnectionGone")
        else:  # one broken connection must not keep the rest from theirs
            logger.warning(
                "live push failed",
                extra={"connection_id": connection_id, "error": type(outcome).__name__},
            )
            count("LivePushFailed")


def _post(connection_id: str, data: bytes) -> Exception | None:
    """Send to one connection; what went wrong, or None."""
    try:
        connections_api.post(connection_id, data)
    except Exception as exc:  # handled by the caller, connection by connection
        return exc
    return None


def _forget(owner_id: str, connection_id: str) -> None:
    LiveConnection(owner_pk(owner_id), connection_id).delete()
    LiveConnection(connection_pk(connection_id), OWNER).delete()


def forget_user(user_id: str) -> None:
    """Erasure: every connection of the user is forgotten (both items of each); its sockets
    get nothing more, and the user has no valid token to connect again with."""
    with LiveConnection.batch_write() as batch:
        for item in LiveConnection.query(owner_pk(user_id), consistent_read=True):
            batch.delete(item)
            batch.delete(LiveConnection(connection_pk(item.sk), OWNER))


def reply(connection_id: str, message: dict[str, Any]) -> None:
    """Answer one connection (a pong); a connection gone meanwhile is forgotten."""
    try:
        connections_api.post(connection_id, json.dumps(message, separators=(",", ":")).encode())
    except connections_api.ConnectionGone:
        disconnect(connection_id)
