"""Signed webhooks and queue positions, over HTTP against the local stack.

A receiver on loopback (plain http, which `make dev` and the test stacks allow) gets one signed
POST per final state; a receiver answering 500 is tried again until it answers 2xx; private
addresses are refused. The model container here is a stand-in whose answers a test can hold
back, so generations stay `queued` while positions are read.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import io
import json
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from local.config import StackState, free_port
from tests.support.aws import client, name, quiesce
from tests.support.client import Api, consented, sign_in
from tests.support.stack import LOGS, running_stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
# The generations table's stream hands final states and queue moves to HOOKS' services
# (chalicelib/events/changes.py, issue 18's LIVE part): the tests that wait for either need it.
needs_stream = pytest.mark.skipif(
    importlib.util.find_spec("chalicelib.events.changes") is None,
    reason="the generations stream handler (chalicelib/events/changes.py) is not there yet",
)

FINAL = {"published", "in_review", "rejected", "failed", "removed"}


class HeldModel:
    """A model container that paints a plain PNG of the asked size, answers 500 for prompts
    starting with "fail", and, while `open` is clear, holds every answer but those of the
    prompts in `let_through` (the endpoint sends it several jobs at once, so a test names
    the one to finish)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.open = threading.Event()
        self.open.set()
        self.let_through: set[str] = set()  # prompts painted while the rest are held
        model = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.end_headers()

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                while not model.open.is_set() and body.get("prompt") not in model.let_through:
                    model.open.wait(0.1)
                if str(body.get("prompt", "")).startswith("fail"):
                    self._answer(500, b'{"error": "model failure"}', "application/json")
                    return
                size = (int(body.get("width") or 512), int(body.get("height") or 512))
                out = io.BytesIO()
                Image.new("RGB", size, (90, 140, 200)).save(out, "PNG")
                self._answer(200, out.getvalue(), "image/png")

            def _answer(self, status: int, data: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Receiver:
    """A webhook receiver on loopback: keeps every POST; answers the statuses in `script`
    first, then 200."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks/objektify"
        self.received: list[dict[str, Any]] = []
        self.script: list[int] = []
        self.redirect_to = ""
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else 200
                    receiver.received.append(
                        {
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "raw": raw,
                            "answered": status,
                        }
                    )
                self.send_response(status)
                if receiver.redirect_to:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def for_generation(self, generation_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.received if json.loads(r["raw"])["id"] == generation_id]


def verified(secret: str, delivery: dict[str, Any], tolerance: int = 300) -> dict[str, Any]:
    """The body of a delivery whose signature holds (as a receiver checks it), else fail."""
    parts = dict(p.split("=", 1) for p in delivery["headers"]["objektify-signature"].split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + delivery["raw"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected), "signature does not verify"
    assert abs(time.time() - int(parts["t"])) < tolerance
    body: dict[str, Any] = json.loads(delivery["raw"])
    return body


@pytest.fixture(scope="module")
def model() -> Iterator[HeldModel]:
    held = HeldModel()
    yield held
    held.open.set()
    held.server.shutdown()


@pytest.fixture(scope="module")
def hooks_stack(tmp_path_factory: pytest.TempPathFactory, model: HeldModel) -> Iterator[StackState]:
    env = {
        "OBJEKTIFY_LOCAL_INFERENCE_URL": f"http://127.0.0.1:{model.port}",
        # Retries a second or two apart, and four tries before the DLQ (the defaults: over an
        # hour, tests/unit/test_webhooks.py).
        "OBJEKTIFY_WEBHOOK_BACKOFF_SECONDS": "1",
        "OBJEKTIFY_WEBHOOK_BACKOFF_MAX_SECONDS": "2",
        "OBJEKTIFY_WEBHOOK_MAX_ATTEMPTS": "4",
    }
    with running_stack(Path(tmp_path_factory.mktemp("hooks")), env) as state:
        yield state


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.server.shutdown()


def hooked(state: StackState, receiver: Receiver) -> tuple[Api, str]:
    user = consented(state)
    answer = user.put("/me/webhook", json={"url": receiver.url})
    assert answer.status_code == 200, answer.text
    assert answer.json()["url"] == receiver.url
    secret = answer.json()["secret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    return user, secret


def finished(user: Api, generation_id: str, timeout: float = 90) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        body: dict[str, Any] = user.get(f"/generations/{generation_id}").json()
        return body if body["status"] in FINAL else None

    return wait_for(done, timeout=timeout, what=f"generation {generation_id} to finish")


def submit(user: Api, prompt: str) -> str:
    created = user.post("/generations", json={"prompt": prompt, "steps": 2})
    assert created.status_code == 202, created.text
    return str(created.json()["id"])


@needs_stream
def test_each_final_state_is_delivered_once_signed(
    hooks_stack: StackState, receiver: Receiver
) -> None:
    user, secret = hooked(hooks_stack, receiver)
    published = finished(user, submit(user, f"a lantern {uuid.uuid4().hex[:6]}"))
    failed = finished(user, submit(user, "fail to paint a kite"))
    assert (published["status"], failed["status"]) == ("published", "failed")
    # The creator deletes the published image: `removed`, a final state of its own.
    assert user.delete(f"/gallery/{published['id']}").status_code == 204
    removed = finished(user, published["id"])
    wait_for(lambda: user.get(f"/generations/{published['id']}").json()["status"] == "removed")

    def delivered() -> list[dict[str, Any]] | None:
        got = receiver.for_generation(published["id"]) + receiver.for_generation(failed["id"])
        return got if len(got) >= 3 else None

    wait_for(delivered, timeout=60, what="three deliveries")
    quiesce(hooks_stack)
    deliveries = delivered() or []
    events = sorted((verified(secret, d)["id"], verified(secret, d)["status"]) for d in deliveries)
    assert events == sorted(
        [(published["id"], "published"), (published["id"], "removed"), (failed["id"], "failed")]
    ), "exactly one delivery per final state"
    event_ids = {d["headers"]["objektify-event-id"] for d in deliveries}
    assert len(event_ids) == 3
    assert all(d["path"] == "/hooks/objektify" for d in deliveries)
    assert all(d["headers"]["content-type"] == "application/json" for d in deliveries)
    # The body is the generation as its owner reads it.
    for delivery in deliveries:
        body = verified(secret, delivery)
        if body["status"] == "failed":
            assert body == user.get(f"/generations/{body['id']}").json()
    # Signed with this hook's secret and no other.
    forged = dict(deliveries[0])
    with pytest.raises(AssertionError):
        verified("whsec_" + "x" * 43, forged)

    state = user.get("/me/webhook").json()
    assert state["url"] == receiver.url
    assert "secret" not in state and secret not in json.dumps(state)
    shown = {(d["generation_id"], d["event"]): d for d in state["deliveries"]}
    assert set(shown) == {
        (published["id"], "published"),
        (published["id"], "removed"),
        (failed["id"], "failed"),
    }
    assert {d["status"] for d in shown.values()} == {"delivered"}
    assert {d["attempts"] for d in shown.values()} == {1}
    assert {d["event_id"] for d in shown.values()} == event_ids
    assert removed["status"] in FINAL


@needs_stream
def test_a_failing_receiver_is_tried_again_until_it_answers(
    hooks_stack: StackState, receiver: Receiver
) -> None:
    receiver.script = [500, 503]
    user, secret = hooked(hooks_stack, receiver)
    done = finished(user, submit(user, f"a harbour {uuid.uuid4().hex[:6]}"))
    wait_for(
        lambda: any(r["answered"] == 200 for r in receiver.for_generation(done["id"])),
        timeout=60,
        what="a successful delivery after two 5xx",
    )
    tries = receiver.for_generation(done["id"])
    assert [t["answered"] for t in tries] == [500, 503, 200]
    assert len({t["headers"]["objektify-event-id"] for t in tries}) == 1
    assert all(verified(secret, t)["status"] == done["status"] for t in tries)
    record = wait_for(
        lambda: [
            d for d in user.get("/me/webhook").json()["deliveries"] if d["status"] == "delivered"
        ],
        what="the delivery record to say delivered",
    )[0]
    assert (record["attempts"], record["last_result"]) == (3, "200")


@needs_stream
def test_a_receiver_that_stays_down_is_dead_lettered_and_shown(
    hooks_stack: StackState, receiver: Receiver
) -> None:
    receiver.script = [500] * 20
    user, _ = hooked(hooks_stack, receiver)
    started = time.monotonic()
    done = finished(user, submit(user, f"a quiet pier {uuid.uuid4().hex[:6]}"))
    # The receiver's failures never held the generation back.
    assert done["status"] == "published" and time.monotonic() - started < 60
    record = wait_for(
        lambda: [
            d
            for d in user.get("/me/webhook").json()["deliveries"]
            if d["status"] == "dead_lettered"
        ],
        timeout=90,
        what="the delivery to be dead-lettered",
    )[0]
    assert (record["attempts"], record["last_result"]) == (4, "500")
    sqs = client(hooks_stack, "sqs")
    dlq = sqs.get_queue_url(QueueName=name(hooks_stack, "webhooks") + "-dlq")["QueueUrl"]

    def in_dlq() -> list[Any] | None:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        mine = [
            m
            for m in got.get("Messages", [])
            if json.loads(m["Body"])["event_id"] == record["event_id"]
        ]
        return mine or None

    assert wait_for(in_dlq, timeout=30, what="the message in the DLQ")
    assert len(receiver.for_generation(done["id"])) == 4


@needs_stream
def test_a_redirect_is_not_followed(hooks_stack: StackState, receiver: Receiver) -> None:
    elsewhere = Receiver()
    try:
        receiver.script = [302]
        receiver.redirect_to = elsewhere.url
        user, _ = hooked(hooks_stack, receiver)
        done = finished(user, submit(user, f"a signpost {uuid.uuid4().hex[:6]}"))
        record = wait_for(
            lambda: [
                d for d in user.get("/me/webhook").json()["deliveries"] if d["status"] == "failed"
            ],
            timeout=60,
            what="the redirected delivery to fail",
        )[0]
        assert (record["generation_id"], record["last_result"]) == (done["id"], "302")
        quiesce(hooks_stack)
        assert len(receiver.for_generation(done["id"])) == 1
        assert elsewhere.received == []
    finally:
        elsewhere.server.shutdown()


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "https://192.168.0.10/hook",
        "http://[::ffff:169.254.169.254]/",
        "ftp://127.0.0.1/hook",
        "http://user:secret@127.0.0.1:9/hook",
        "not a url",
    ],
)
def test_a_url_that_is_not_allowed_is_refused(hooks_stack: StackState, url: str) -> None:
    user = consented(hooks_stack)
    answer = user.put("/me/webhook", json={"url": url})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid_request"
    assert user.get("/me/webhook").json()["url"] is None


def test_the_webhook_is_the_callers_and_needs_consent(
    hooks_stack: StackState, receiver: Receiver
) -> None:
    assert Api(hooks_stack).put("/me/webhook", json={"url": receiver.url}).status_code == 401
    refused = sign_in(hooks_stack).put("/me/webhook", json={"url": receiver.url})
    assert (refused.status_code, refused.json()["code"]) == (403, "consent_required")
    user, secret = hooked(hooks_stack, receiver)
    other = consented(hooks_stack)
    assert other.get("/me/webhook").json() == {"url": None, "created_at": None, "deliveries": []}
    # A new PUT is a new secret; DELETE removes the hook and its deliveries.
    again = user.put("/me/webhook", json={"url": receiver.url}).json()["secret"]
    assert again != secret
    assert user.delete("/me/webhook").status_code == 204
    assert user.get("/me/webhook").json()["url"] is None
    assert user.delete("/me/webhook").status_code == 204
    # With no hook, a final state sends nothing.
    done = finished(user, submit(user, f"an empty field {uuid.uuid4().hex[:6]}"))
    quiesce(hooks_stack)
    assert receiver.for_generation(done["id"]) == []


@needs_stream
def test_export_holds_the_webhook_and_erasure_removes_it(
    hooks_stack: StackState, receiver: Receiver
) -> None:
    user, secret = hooked(hooks_stack, receiver)
    done = finished(user, submit(user, f"a paper boat {uuid.uuid4().hex[:6]}"))
    wait_for(lambda: receiver.for_generation(done["id"]), what="the delivery")
    started = user.post("/me/export").json()["export_id"]
    ready = wait_for(
        lambda: (b := user.get(f"/me/export/{started}").json())["status"] == "ready" and b,
        timeout=60,
        what="the export",
    )
    content = requests.get(ready["url"], timeout=30).content
    archive = zipfile.ZipFile(io.BytesIO(content))
    exported = json.loads(archive.read("webhook.json"))
    assert exported["url"] == receiver.url
    assert [d["generation_id"] for d in exported["deliveries"]] == [done["id"]]
    assert all(secret.encode() not in archive.read(n) for n in archive.namelist())

    dynamodb = client(hooks_stack, "dynamodb")
    table = name(hooks_stack, "webhooks")

    def items() -> list[Any]:
        return list(
            dynamodb.query(
                TableName=table,
                KeyConditionExpression="user_id = :u",
                ExpressionAttributeValues={":u": {"S": user.user_id}},
                ConsistentRead=True,
            )["Items"]
        )

    assert len(items()) == 2  # the hook and its delivery
    assert user.delete("/me").status_code == 202
    wait_for(lambda: items() == [], timeout=60, what="the erasure to remove the webhook")


@needs_stream
def test_queued_generations_show_their_place_and_it_falls(
    hooks_stack: StackState, model: HeldModel
) -> None:
    quiesce(hooks_stack)  # nothing of other tests still in the queue
    user = consented(hooks_stack)
    model.open.clear()
    try:
        prompts = [f"a queued hill {n} {uuid.uuid4().hex[:4]}" for n in range(3)]
        ids = [submit(user, prompt) for prompt in prompts]

        def places() -> list[dict[str, int]] | None:
            bodies = [user.get(f"/generations/{g}").json() for g in ids]
            if not all(b["status"] == "queued" and "queue" in b for b in bodies):
                return None
            return [b["queue"] for b in bodies]

        first = wait_for(places, timeout=30, what="queue places")
        assert [p["position"] for p in first] == [1, 2, 3]
        etas = [p["eta_seconds"] for p in first]
        assert all(isinstance(e, int) and e > 0 for e in etas) and etas == sorted(etas)
        assert "queue" in user.get("/me/generations").json()["items"][0]

        model.let_through.add(prompts[0])  # the first job is painted; the others move up
        wait_for(
            lambda: (
                [
                    user.get(f"/generations/{g}").json().get("queue", {}).get("position")
                    for g in ids[1:]
                ]
                == [1, 2]
            ),
            timeout=30,
            what="the places to fall",
        )
        assert "queue" not in user.get(f"/generations/{ids[0]}").json()
    finally:
        model.open.set()
    for g in ids:
        assert "queue" not in finished(user, g)


def changes_seen(state: StackState, generation_id: str) -> list[tuple[str | None, str]]:
    """The changes of status the stream's handler logged for a generation, in log order."""
    seen: list[tuple[str | None, str]] = []
    for line in LOGS[state.api_url].read_text(errors="replace").splitlines():
        if '"generation changed"' not in line or generation_id not in line:
            continue
        entry = json.loads(line[line.index("{") :])
        if entry.get("generation_id") == generation_id:
            change = (entry.get("from"), str(entry["to"]))
            if not seen or seen[-1] != change:  # a record read again (at least once)
                seen.append(change)
    return seen


@needs_stream
def test_every_change_of_status_reaches_the_streams_handler_in_order(
    hooks_stack: StackState,
) -> None:
    user = consented(hooks_stack)
    generation_id = submit(user, f"a paper boat {uuid.uuid4().hex[:6]}")
    assert finished(user, generation_id)["status"] == "published"
    assert user.delete(f"/gallery/{generation_id}").status_code == 204
    expected = [
        (None, "queued"),
        ("queued", "scanning"),
        ("scanning", "published"),
        ("published", "removed"),
    ]
    wait_for(
        lambda: changes_seen(hooks_stack, generation_id) == expected,
        timeout=60,
        what="the stream's handler to see every change in order",
    )
