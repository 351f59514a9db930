"""Scenario 5: the model container answers 500, hangs past the invocation timeout, returns a
non-image, drops the connection or is down. Every generation ends `failed` with a reason a user
may read, and once the sweeper's deadline has passed nothing is left unfinished."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from local.config import StackState, free_port
from tests.reliability import figures
from tests.reliability.history import FINAL, History
from tests.support.client import Api, sign_in
from tests.support.stack import running_stack
from tests.support.waiting import wait_for

INVOCATION_TIMEOUT = 2
QUEUED_DEADLINE = 20
SAFE_REASONS = {
    "model_error": "The model could not paint this image. Try again.",
    "timed_out": "This generation took too long and was stopped. Try again.",
    "invalid_output": "The model produced no usable image. Try again.",
}


class FaultyModel:
    """A model container whose answer is chosen by the prompt's first word."""

    def __init__(self) -> None:
        self.port = free_port()
        self.hanging = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.end_headers()

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                kind = body["prompt"].split()[0]
                if kind == "hang":
                    model.hanging.set()
                    time.sleep(INVOCATION_TIMEOUT * 4)  # past the invocation timeout
                    return
                if kind == "drop":
                    self.close_connection = True  # no answer at all
                    return
                status, content_type, data = {
                    "error": (500, "application/json", b'{"error": "CUDA out of memory at 0x7f"}'),
                    "text": (200, "text/plain", b"I am not a picture"),
                    "json": (200, "application/json", b'{"image": null}'),
                }[kind]
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return

        model = self
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def go_down(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def model_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[StackState, FaultyModel]]:
    model = FaultyModel()
    env = {
        "OBJEKTIFY_LOCAL_INFERENCE_URL": f"http://127.0.0.1:{model.port}",
        "OBJEKTIFY_INVOCATION_TIMEOUT_SECONDS": str(INVOCATION_TIMEOUT),
        "OBJEKTIFY_QUEUED_DEADLINE_SECONDS": str(QUEUED_DEADLINE),
        "OBJEKTIFY_LOCAL_SCHEDULE_SECONDS": "2",
        "OBJEKTIFY_LOCAL_INFERENCE_WORKERS": "4",
    }
    with running_stack(Path(tmp_path_factory.mktemp("model-faults")), env) as state:
        yield state, model
    model.server.server_close()


def test_every_model_fault_ends_failed_with_a_safe_reason(
    model_stack: tuple[StackState, FaultyModel],
) -> None:
    state, model = model_stack
    user = sign_in(state)
    user.accept_current_terms()
    history, users = History(), {"user": user}

    def submit(prompt: str) -> str:
        answer = user.post("/generations", json={"prompt": prompt, "steps": 1})
        history.record("submit", "user", None, answer.status_code, answer.json())
        assert answer.status_code == 202, answer.text
        return str(answer.json()["id"])

    faults = {
        kind: submit(f"{kind} of a lighthouse")
        for kind in ("error", "hang", "drop", "text", "json")
    }
    wait_for(model.hanging.is_set, timeout=30, what="the model to take the hanging request")

    def finished(generation_id: str) -> dict | None:
        body = user.get(f"/generations/{generation_id}").json()
        return body if body["status"] in FINAL else None

    outcomes = {
        kind: wait_for(lambda g=gid: finished(g), timeout=60, what=f"the {kind} generation")
        for kind, gid in faults.items()
    }
    # Down: nothing listens on the container's port any more.
    model.go_down()
    faults["down"] = submit("down of a lighthouse")
    last_submit = time.monotonic()
    outcomes["down"] = wait_for(
        lambda: finished(faults["down"]), timeout=60, what="the generation sent to a dead model"
    )

    anomalies = []
    for kind, body in outcomes.items():
        error = body.get("error") or {}
        if body["status"] != "failed" or SAFE_REASONS.get(error.get("code")) != error.get(
            "message"
        ):
            anomalies.append(f"{kind}: {body['status']} {error}")
        if any(leak in json.dumps(body) for leak in ("CUDA", "0x7f", "127.0.0.1", "Traceback")):
            anomalies.append(f"{kind}: the answer leaks the model's words: {error}")
        if Api(state).get(f"/gallery/{body['id']}").status_code == 200:
            anomalies.append(f"{kind}: a failed generation is public")
    # Past the sweeper's deadline nothing is left unfinished.
    time.sleep(max(0.0, last_submit + QUEUED_DEADLINE + 4 - time.monotonic()))
    stuck, p95 = figures.generation_figures(history, users)
    dlq = figures.dead_letters(state)
    print(f"\nmodel faults: {json.dumps({k: v['error']['code'] for k, v in outcomes.items()})}")
    figures.add(
        figures.Row(
            "5 model faults",
            operations=len(outcomes),
            anomalies=len(anomalies),
            dlq_messages=dlq,
            stuck=stuck,
            p95_submit_to_final=p95,
            notes=[", ".join(f"{k} → {v['error']['code']}" for k, v in outcomes.items())],
        )
    )
    assert anomalies == []
    assert stuck == 0
    assert dlq == 0
