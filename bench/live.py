"""Live updates on the local stack (issue 18). Prints figures; asserts nothing.

- Latency: from a generation's state change written to DynamoDB (its `updated_at`, set by the
  writer as it writes) to the pushed event at a client connected to the WebSocket stand-in,
  through the table's stream, the event pump, `on_generation_change` and the @connections API.
- Fan-out: messages per second delivered when one user holds 100 open connections and the
  app's `live.push` sends to all of them (one PostToConnection each, in turn).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from datetime import datetime
from typing import Any

from support import consented_user, in_process_app, stack, summary, wait_until

GENERATIONS = 8
CONNECTIONS = 100
PUSHES = 10


def latencies(state: Any) -> list[float]:
    from websockets.sync.client import connect

    user = consented_user(state)
    samples: list[float] = []
    with connect(f"{state.websocket_url}/?token={user.token}", open_timeout=60) as ws:
        for i in range(GENERATIONS):
            created = user.post("/generations", json={"prompt": f"a lighthouse {i}", "steps": 2})
            assert created.status_code == 202, created.text
            generation_id = created.json()["id"]
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                message = json.loads(ws.recv(timeout=300))
                arrived = time.time()
                generation = message.get("generation") or {}
                if generation.get("id") != generation_id:
                    continue
                written = datetime.fromisoformat(generation["updated_at"]).timestamp()
                samples.append(arrived - written)
                if generation["status"] not in ("queued", "scanning"):
                    break
    return samples


def fan_out(state: Any) -> tuple[float, float]:
    """(messages/s at the clients, seconds per push call) for CONNECTIONS sockets of one user."""
    from websockets.asyncio.client import connect

    user = consented_user(state)
    url = f"{state.websocket_url}/?token={user.token}"
    received = 0
    opened = threading.Event()
    done = threading.Event()
    lock = threading.Lock()

    async def client(gate: asyncio.Event) -> None:
        nonlocal received
        async with connect(url, open_timeout=120, max_queue=None) as ws:
            await gate.wait()
            async for _ in ws:
                with lock:
                    received += 1
                if done.is_set():
                    return

    async def clients() -> None:
        opened_all = asyncio.Event()
        tasks = [asyncio.create_task(client(opened_all)) for _ in range(CONNECTIONS)]
        while len(connections_of(user.user_id)) < CONNECTIONS:
            await asyncio.sleep(0.1)
        opened_all.set()
        opened.set()
        while not done.is_set():
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    thread = threading.Thread(target=lambda: asyncio.run(clients()), daemon=True)
    thread.start()
    assert opened.wait(timeout=300), "the connections did not open"

    from chalicelib.services import live

    message = {"type": "generation", "generation": {"id": "bench", "status": "queued"}}
    started = time.perf_counter()
    per_push = []
    for _ in range(PUSHES):
        began = time.perf_counter()
        live.push(user.user_id or "", message)
        per_push.append(time.perf_counter() - began)
    wait_until(lambda: received >= CONNECTIONS * PUSHES, timeout=300, every=0.01)
    elapsed = time.perf_counter() - started
    done.set()
    thread.join(timeout=60)
    return CONNECTIONS * PUSHES / elapsed, sum(per_push) / len(per_push)


def connections_of(user_id: str | None) -> list[str]:
    from chalicelib.services import live

    return live.connections_of(user_id or "")


def main() -> None:
    with stack() as state:
        in_process_app(state)  # this process's push reaches the stack as the app's does
        os.environ["AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"] = state.extra[
            "websocket_management_url"
        ]
        samples = latencies(state)
        rate, per_push = fan_out(state)
    print("live updates (local stack: stream → pump → on_generation_change → @connections)")
    print(f"  state change in DynamoDB → event at the client: {summary(samples)}")
    print(
        f"  fan-out to {CONNECTIONS} connections of one user: {rate:.0f} messages/s at the "
        f"clients; one push {per_push * 1000:.0f} ms ({PUSHES} pushes)"
    )


if __name__ == "__main__":
    main()
