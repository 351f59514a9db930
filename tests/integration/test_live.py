"""Live updates over a real WebSocket against the local stack (issue 18): the stand-in of API
Gateway's WebSocket API calls the app's own handlers, and the app pushes through the
@connections management API as it does in AWS."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from local.config import StackState, app_env
from tests.support.aws import client, name
from tests.support.client import FINAL, Api, consented, publish_one, sign_in
from tests.support.stack import LOGS
from tests.support.tokens import claims_for, signed_by_emulator, signed_by_stranger
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
OPEN_TIMEOUT = 30  # CI machines are slower; a refused connect still answers at once
needs_stream = pytest.mark.skipif(
    importlib.util.find_spec("chalicelib.events.changes") is None,
    reason="the generations stream handler (chalicelib/events/changes.py) is not there yet",
)


@contextmanager
def socket(state: StackState, token: str | None) -> Iterator[ClientConnection]:
    url = state.websocket_url + (f"/?token={token}" if token is not None else "/")
    with connect(url, open_timeout=OPEN_TIMEOUT, close_timeout=10) as ws:
        yield ws


def refused_status(state: StackState, token: str | None) -> int:
    with pytest.raises(InvalidStatus) as refused, socket(state, token):
        pass
    return int(refused.value.response.status_code)


def connections_of(state: StackState, user_id: str) -> list[str]:
    items = client(state, "dynamodb").query(
        TableName=name(state, "connections"),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"user#{user_id}"}},
        ConsistentRead=True,
    )["Items"]
    return sorted(item["sk"]["S"] for item in items)


def received(ws: ClientConnection, timeout: float = 20) -> dict[str, Any]:
    return dict(json.loads(ws.recv(timeout=timeout)))


def nothing_more(ws: ClientConnection, wait: float = 1.0) -> None:
    """No message is waiting (a short recv that times out: an absence, not a duration)."""
    with pytest.raises(TimeoutError):
        ws.recv(timeout=wait)


def push(state: StackState, user_id: str, message: dict[str, Any]) -> None:
    """The app's own push (services/live.py), run as the app runs, with the stack's settings."""
    env = {**os.environ, **app_env(state, Path(state.extra["dir"]))}
    env["AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"] = state.extra["websocket_management_url"]
    code = (
        "import json, sys\n"
        "from chalicelib.services import live\n"
        "live.push(sys.argv[1], json.loads(sys.argv[2]))\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, user_id, json.dumps(message)],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=120,
    )


def test_the_client_config_names_the_websocket(stack: StackState) -> None:
    answer = Api(stack).get("/client-config")

    assert answer.status_code == 200
    assert answer.json()["websocket_url"] == stack.websocket_url


def test_a_connect_without_a_valid_token_is_refused(stack: StackState) -> None:
    user = sign_in(stack)
    claims = claims_for(stack, sub=user.user_id)
    expired = signed_by_emulator({**claims, "iat": int(time.time()) - 7200, "exp": 1})
    assert user.token is not None

    assert refused_status(stack, None) == 401
    assert refused_status(stack, "") == 401
    assert refused_status(stack, "not-a-token") == 401
    assert refused_status(stack, expired) == 401
    assert refused_status(stack, signed_by_stranger(claims)) == 401
    assert refused_status(stack, user.token[:-4]) == 401
    assert connections_of(stack, user.user_id or "") == []


def test_a_connection_is_stored_while_open_and_removed_once_closed(stack: StackState) -> None:
    user = sign_in(stack)
    assert user.user_id

    with socket(stack, user.token), socket(stack, user.token):
        assert len(connections_of(stack, user.user_id)) == 2
        with socket(stack, user.token):
            assert len(connections_of(stack, user.user_id)) == 3
        wait_for(
            lambda: len(connections_of(stack, user.user_id or "")) == 2,
            timeout=30,
            what="the closed connection to be removed",
        )
    wait_for(
        lambda: connections_of(stack, user.user_id or "") == [],
        timeout=30,
        what="every connection to be removed",
    )


def test_a_ping_is_answered_with_a_pong(stack: StackState) -> None:
    user = sign_in(stack)

    with socket(stack, user.token) as ws:
        ws.send(json.dumps({"type": "ping"}))
        assert received(ws) == {"type": "pong"}


def test_a_push_reaches_every_socket_of_its_user_and_no_one_elses(stack: StackState) -> None:
    alice, bob = sign_in(stack), sign_in(stack)
    assert alice.user_id and bob.user_id
    message = {"type": "generation", "generation": {"id": uuid.uuid4().hex, "status": "queued"}}

    with (
        socket(stack, alice.token) as first,
        socket(stack, alice.token) as second,
        socket(stack, bob.token) as other,
    ):
        push(stack, alice.user_id, message)

        assert received(first) == message
        assert received(second) == message
        nothing_more(other)


def test_a_push_to_a_socket_closed_without_goodbye_forgets_it(stack: StackState) -> None:
    user = sign_in(stack)
    assert user.user_id
    dynamodb = client(stack, "dynamodb")
    with socket(stack, user.token) as ws:
        ws.send(json.dumps({"type": "ping"}))
        received(ws)
        kept = connections_of(stack, user.user_id)
    wait_for(lambda: connections_of(stack, user.user_id or "") == [], timeout=30, what="close")
    # A connection whose $disconnect never arrived (as happens in AWS): the push meets 410 Gone.
    for connection_id in kept:
        for pk, sk in (
            (f"user#{user.user_id}", connection_id),
            (f"connection#{connection_id}", "owner"),
        ):
            dynamodb.put_item(
                TableName=name(stack, "connections"),
                Item={
                    "pk": {"S": pk},
                    "sk": {"S": sk},
                    "user_id": {"S": user.user_id},
                    "connected_at": {"S": "2026-01-01T00:00:00.000000+0000"},
                    "expires_at": {"N": str(int(time.time()) + 3600)},
                },
            )

    push(stack, user.user_id, {"type": "generation", "generation": {"id": "x"}})

    assert connections_of(stack, user.user_id) == []


def test_the_token_in_the_connect_url_never_reaches_a_log_line(stack: StackState) -> None:
    user = sign_in(stack)
    assert user.token
    bad = user.token[:-6] + "AAAAAA"
    with socket(stack, user.token) as ws:
        ws.send("ping")
        received(ws)
    refused_status(stack, bad)

    log = LOGS[stack.api_url].read_text(errors="replace")
    assert user.token not in log
    assert bad not in log
    assert user.token.split(".")[2] not in log  # not even the signature alone


@needs_stream
def test_a_client_sees_every_state_of_its_generation_in_order_and_nothing_of_others(
    stack: StackState,
) -> None:
    alice, bob = consented(stack), consented(stack)

    with socket(stack, alice.token) as mine, socket(stack, bob.token) as theirs:
        created = alice.post("/generations", json={"prompt": "a quiet harbour", "steps": 2})
        assert created.status_code == 202, created.text
        generation_id = created.json()["id"]

        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + 120
        while not seen or seen[-1]["status"] not in FINAL:
            assert time.monotonic() < deadline, f"no final state pushed: {seen}"
            message = received(mine, timeout=120)
            assert message["type"] == "generation"
            if message["generation"]["id"] == generation_id:
                seen.append(message["generation"])

        statuses = [g["status"] for g in seen]
        assert statuses[0] == "queued"
        assert statuses[-1] == "published"
        assert "scanning" in statuses
        order = ["queued", "scanning", "published"]
        assert statuses == sorted(statuses, key=order.index)
        # The last push is the body GET /generations/{id} answers.
        final = alice.get(f"/generations/{generation_id}").json()
        assert seen[-1]["id"] == final["id"] and seen[-1]["status"] == final["status"]
        with pytest.raises((TimeoutError, ConnectionClosed)):
            while True:
                other = received(theirs, timeout=1)
                assert other["generation"]["id"] != generation_id


def decisions_until(
    ws: ClientConnection, wanted: Any, what: str, timeout: float = 60
) -> list[dict[str, Any]]:
    """The decisions pushed to `ws` until `wanted(decisions so far)` holds (generation messages
    are skipped)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not wanted(seen):
        left = deadline - time.monotonic()
        assert left > 0, f"{what}: not pushed in {timeout} s; pushed: {seen}"
        message = received(ws, timeout=left)
        if message["type"] == "decision":
            seen.append(message["decision"])
    return seen


def test_a_users_decisions_and_their_appeals_outcome_are_pushed_to_them_alone(
    stack: StackState,
) -> None:
    alice, bob = consented(stack), consented(stack)
    first, second = consented(stack, "moderators"), consented(stack, "moderators")
    image_id = publish_one(alice)["id"]

    with socket(stack, alice.token) as mine, socket(stack, bob.token) as theirs:
        removed = first.post(
            f"/moderation/images/{image_id}/decision",
            json={"action": "remove", "reason": "Graphic violence.", "category": "violent"},
        )
        assert removed.status_code == 200, removed.text
        (removal,) = decisions_until(mine, bool, "the removal")

        listed = {s["id"]: s for s in alice.get("/me/decisions?limit=100").json()["items"]}
        assert removal == listed[removal["id"]]  # exactly what GET /me/decisions shows
        assert removal["decision"] == "content_removed" and removal["image_id"] == image_id
        assert removal["appeal"] is None

        filed = alice.post(
            f"/me/decisions/{removal['id']}/appeal", json={"explanation": "A painted storm."}
        )
        assert filed.status_code == 201, filed.text
        reversed_ = second.post(
            f"/moderation/appeals/{removal['id']}/decision",
            json={"action": "reverse", "reason": "A storm, not gore."},
        )
        assert reversed_.status_code == 200, reversed_.text

        def outcome_told(seen: list[dict[str, Any]]) -> bool:
            decided = [s for s in seen if (s["appeal"] or {}).get("status") == "decided"]
            return bool(decided) and any(s["decision"] == "decision_reversed" for s in seen)

        later = decisions_until(mine, outcome_told, "the appeal's outcome")
        listed = {s["id"]: s for s in alice.get("/me/decisions?limit=100").json()["items"]}
        outcome = next(s for s in later if s["decision"] == "decision_reversed")
        assert outcome == listed[outcome["id"]] and outcome["refers_to"] == removal["id"]
        appealed = [s for s in later if s["id"] == removal["id"]]
        assert appealed[-1] == listed[removal["id"]]
        assert appealed[-1]["appeal"]["outcome"] == "reversed"
        assert all((s["appeal"] or {}).get("status") != "deciding" for s in later)

        # Bob's socket carried nothing of Alice's decisions (nor anything else: he did nothing).
        nothing_more(theirs)
