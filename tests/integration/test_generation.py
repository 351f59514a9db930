"""Generation end to end through the local stack: HTTP → S3 → async runtime → model → events."""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from local.config import StackState, free_port
from tests.support.aws import client, name
from tests.support.client import Api, consented
from tests.support.stack import running_stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
FINAL = {"published", "in_review", "rejected", "failed", "removed"}


def final_state(api: Api, generation_id: str, timeout: float = 90) -> dict:
    def probe() -> dict | None:
        body = api.get(f"/generations/{generation_id}").json()
        return body if body["status"] in FINAL else None

    return wait_for(probe, timeout=timeout, what=f"generation {generation_id} to finish")


def test_a_prompt_becomes_a_published_png_in_s3(stack: StackState) -> None:
    alice = consented(stack)
    answer = alice.post(
        "/generations",
        json={
            "prompt": "a red lighthouse at dusk",
            "seed": 7,
            "width": 512,
            "height": 512,
            "steps": 2,
        },
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "queued"
    assert answer.headers["Location"] == f"/generations/{body['id']}"
    assert body["seed"] == 7 and body["steps"] == 2 and body["terms_version"] == 1
    done = final_state(alice, body["id"])
    assert done["status"] == "published", done
    stored = client(stack, "s3").get_object(
        Bucket=name(stack, "originals"), Key=f"outputs/{body['id']}.png"
    )
    data = stored["Body"].read()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(data)).size == (512, 512)


def test_defaults_fill_in_size_steps_and_a_random_seed(stack: StackState) -> None:
    alice = consented(stack)
    first = alice.post("/generations", json={"prompt": "a quiet harbour"}).json()
    second = alice.post("/generations", json={"prompt": "a quiet harbour"}).json()
    assert (first["width"], first["height"]) == (512, 512)
    assert 1 <= first["steps"] <= 50
    assert 0 <= first["seed"] < 2**32
    assert first["seed"] != second["seed"] or first["id"] != second["id"]


def test_same_idempotency_key_and_body_returns_the_first_answer(stack: StackState) -> None:
    alice = consented(stack)
    key = str(uuid.uuid4())
    request = {"prompt": "a paper boat", "seed": 3}
    first = alice.post("/generations", json=request, headers={"Idempotency-Key": key})
    again = alice.post("/generations", json=request, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    mine = alice.get("/me/generations").json()["items"]
    assert [g["id"] for g in mine] == [first.json()["id"]]
    # The service draws the seed of a request that names none: a retry still matches.
    unseeded, key2 = {"prompt": "a paper plane"}, str(uuid.uuid4())
    first2 = alice.post("/generations", json=unseeded, headers={"Idempotency-Key": key2})
    again2 = alice.post("/generations", json=unseeded, headers={"Idempotency-Key": key2})
    assert first2.status_code == again2.status_code == 202, again2.text
    assert again2.json()["id"] == first2.json()["id"]
    assert len(alice.get("/me/generations").json()["items"]) == 2
    other = alice.post(
        "/generations", json={"prompt": "something else"}, headers={"Idempotency-Key": key}
    )
    assert other.status_code == 400
    assert "Idempotency-Key" in other.json()["details"]
    assert len(alice.get("/me/generations").json()["items"]) == 2


def test_other_users_get_404_for_a_generation(stack: StackState) -> None:
    alice, bob = consented(stack), consented(stack)
    created = alice.post("/generations", json={"prompt": "a secret garden"}).json()
    assert bob.get(f"/generations/{created['id']}").status_code == 404
    assert bob.get("/generations/01ARZ3NDEKTSV4RRFFQ69G5FAV").status_code == 404
    assert alice.get(f"/generations/{created['id']}").status_code == 200
    assert created["id"] not in [g["id"] for g in bob.get("/me/generations").json()["items"]]


def test_my_generations_are_newest_first_and_paged_with_signed_cursors(stack: StackState) -> None:
    alice = consented(stack)
    made = [
        alice.post("/generations", json={"prompt": f"tree number {i}"}).json()["id"]
        for i in range(3)
    ]
    first = alice.get("/me/generations?limit=2").json()
    assert [g["id"] for g in first["items"]] == made[::-1][:2]
    assert first["next_cursor"]
    rest = alice.get(f"/me/generations?limit=2&cursor={first['next_cursor']}").json()
    assert [g["id"] for g in rest["items"]] == [made[0]]
    tampered = (
        first["next_cursor"][:-2]
        + ("A" if first["next_cursor"][-2] != "A" else "B")
        + first["next_cursor"][-1]
    )
    bad = alice.get(f"/me/generations?cursor={tampered}")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor"
    bob = consented(stack)
    stolen = bob.get(f"/me/generations?cursor={first['next_cursor']}")
    assert stolen.status_code == 400


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"prompt": "   "}, {"prompt"}),
        ({"prompt": "x" * 2001}, {"prompt"}),
        ({"prompt": "ok", "width": 500}, {"width"}),
        ({"prompt": "ok", "steps": 0}, {"steps"}),
        ({"prompt": "ok", "steps": 51}, {"steps"}),
        ({"prompt": "ok", "seed": -1}, {"seed"}),
        ({"prompt": "ok", "seed": 2**32}, {"seed"}),
        ({"prompt": "ok", "seed": "7"}, {"seed"}),
        ({"prompt": "ok", "status": "published"}, {"status"}),
        ({"prompt": "ok", "owner": "someone", "created_at": "2020"}, {"owner", "created_at"}),
        ({}, {"prompt"}),
    ],
)
def test_invalid_submissions_name_each_field_and_create_nothing(
    stack: StackState, body: dict, fields: set[str]
) -> None:
    alice = consented(stack)
    answer = alice.post("/generations", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid_request"
    assert fields <= set(answer.json()["details"])
    assert alice.get("/me/generations").json()["items"] == []


# A model container whose behaviour a test chooses: it answers 500, or is down.
class FaultyModel:
    def __init__(self) -> None:
        self.port = free_port()
        self.mode = "error"
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.end_headers()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.dumps({"error": "CUDA out of memory"}).encode()
                self.send_response(500)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        return Handler

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StackState, FaultyModel]]:
    model = FaultyModel()
    env = {
        "OBJEKTIFY_LOCAL_INFERENCE_URL": f"http://127.0.0.1:{model.port}",
        "OBJEKTIFY_QUEUED_DEADLINE_SECONDS": "4",
        "OBJEKTIFY_LOCAL_SCHEDULE_SECONDS": "1",
        "OBJEKTIFY_QUEUE_MAX_RECEIVES": "2",
        "OBJEKTIFY_QUEUE_VISIBILITY_SECONDS": "1",
        "OBJEKTIFY_QUOTA_LIMIT": "3",
    }
    with running_stack(Path(tmp_path_factory.mktemp("faulty")), env) as state:
        yield state, model
    model.stop()


def test_a_container_error_surfaces_as_failed_with_a_safe_reason(faulty) -> None:
    state, _ = faulty
    alice = consented(state)
    created = alice.post("/generations", json={"prompt": "a storm at sea"}).json()
    done = final_state(alice, created["id"], timeout=30)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "model_error"
    assert "CUDA" not in json.dumps(done)


def test_the_quota_refuses_with_retry_after(faulty) -> None:
    state, _ = faulty
    alice = consented(state)
    for i in range(3):
        assert alice.post("/generations", json={"prompt": f"hill {i}"}).status_code == 202
    refused = alice.post("/generations", json={"prompt": "one more hill"})
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    assert len(alice.get("/me/generations").json()["items"]) == 3


def test_a_lost_notification_is_finished_by_the_sweeper(faulty) -> None:
    state, _ = faulty
    sns = client(state, "sns")
    error_topic = next(
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(name(state, "error"))
    )
    subs = sns.list_subscriptions_by_topic(TopicArn=error_topic)["Subscriptions"]
    for sub in subs:
        sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    try:
        alice = consented(state)
        created = alice.post("/generations", json={"prompt": "a lost letter"}).json()
        done = final_state(alice, created["id"], timeout=30)
        assert done["status"] == "failed"
        assert done["error"]["code"] == "timed_out"
    finally:
        for sub in subs:
            sns.subscribe(
                TopicArn=error_topic,
                Protocol="sqs",
                Endpoint=sub["Endpoint"],
                Attributes={"RawMessageDelivery": "true"},
            )


def test_a_poison_message_goes_to_the_dlq_without_blocking_the_batch(faulty) -> None:
    state, _ = faulty
    sqs = client(state, "sqs")
    queue = sqs.get_queue_url(QueueName=name(state, "results"))["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName=name(state, "results") + "-dlq")["QueueUrl"]
    alice = consented(state)
    created = alice.post("/generations", json={"prompt": "a calm lake"}).json()
    sqs.send_message(QueueUrl=queue, MessageBody="{not json at all")
    done = final_state(alice, created["id"], timeout=30)
    assert done["status"] == "failed"  # the healthy message was applied despite the poison

    def poison_in_dlq() -> list | None:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        return [m for m in got.get("Messages", []) if m["Body"] == "{not json at all"] or None

    assert wait_for(poison_in_dlq, timeout=40, what="the poison message in the DLQ")
