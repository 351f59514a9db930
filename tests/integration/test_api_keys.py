"""Personal API keys over HTTP against the local stack: a key generates and reads as its owner,
within its scopes only, never as a moderator or operator, is refused at once when revoked, goes
with the account, and the README's script snippets work against a real stack."""

from __future__ import annotations

import importlib.util
import io
import json
import re
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

from local.config import StackState, free_port
from tests.support.aws import client, name
from tests.support.client import FINAL, Api, consented, sign_in
from tests.support.stack import running_stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
QUOTA = 3
needs_stream = pytest.mark.skipif(
    importlib.util.find_spec("chalicelib.events.changes") is None,
    reason="the generations stream handler (chalicelib/events/changes.py) is not there yet",
)


@pytest.fixture(scope="module")
def keys_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackState]:
    """Its own stack: a small quota to reach with a key, and a scan of the keys table."""
    env = {"OBJEKTIFY_QUOTA_LIMIT": str(QUOTA)}
    with running_stack(Path(tmp_path_factory.mktemp("api-keys")), env) as state:
        yield state


def make_key(user: Api, scopes: list[str], key_name: str = "a script") -> dict[str, Any]:
    answer = user.post("/me/api-keys", json={"name": key_name, "scopes": scopes})
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    assert set(made) == {"id", "name", "prefix", "scopes", "created_at", "key"}
    assert re.fullmatch(r"objk_[A-Za-z0-9_-]{43}", made["key"])
    assert made["key"].startswith(made["prefix"]) and made["scopes"] == sorted(scopes)
    return made


def as_key(state: StackState, key: str) -> Api:
    return Api(state, token=key)


def finished(api: Api, generation_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        body: dict[str, Any] = api.get(f"/generations/{generation_id}").json()
        return body if body["status"] in FINAL else None

    return wait_for(done, timeout=90, what=f"generation {generation_id} to finish")


def stored_keys(state: StackState) -> list[dict[str, Any]]:
    dynamodb = client(state, "dynamodb")
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=name(state, "api-keys"), ConsistentRead=True
    ):
        items += page["Items"]
    return items


def test_a_key_generates_and_reads_as_its_owner(keys_stack: StackState) -> None:
    owner = consented(keys_stack)
    made = make_key(owner, ["generate", "read"])
    script = as_key(keys_stack, made["key"])
    me = script.get("/me")
    assert me.status_code == 200, me.text
    assert me.json()["user_id"] == owner.user_id and me.json()["roles"] == []
    created = script.post("/generations", json={"prompt": "a tin robot", "steps": 2})
    assert created.status_code == 202, created.text
    done = finished(script, created.json()["id"])
    assert done["status"] == "published"
    # The same generation, seen by the owner's token and in the owner's list through the key.
    assert owner.get(f"/generations/{done['id']}").json()["status"] == "published"
    listed = script.get("/me/generations").json()["items"]
    assert [g["id"] for g in listed] == [done["id"]]
    # Another user's generation stays another user's.
    other = consented(keys_stack)
    theirs = other.post("/generations", json={"prompt": "a red door", "steps": 1}).json()["id"]
    assert script.get(f"/generations/{theirs}").status_code == 404


def test_scopes_are_enforced(keys_stack: StackState) -> None:
    owner = consented(keys_stack)
    reader = as_key(keys_stack, make_key(owner, ["read"])["key"])
    maker = as_key(keys_stack, make_key(owner, ["generate"])["key"])
    refused = reader.post("/generations", json={"prompt": "a kite", "steps": 1})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert owner.get("/me/generations").json()["items"] == []  # nothing was made
    assert reader.get("/me").status_code == 200
    assert maker.get("/me").status_code == 403
    created = maker.post("/generations", json={"prompt": "a kite", "steps": 1})
    assert created.status_code == 202, created.text
    assert maker.get(f"/generations/{created.json()['id']}").status_code == 403
    # What a person does with their session, never a key: keys, webhook, export, erasure.
    for key in (reader, maker):
        for method, path, body in (
            ("POST", "/me/api-keys", {"name": "more", "scopes": ["read"]}),
            ("GET", "/me/api-keys", None),
            ("PUT", "/me/webhook", {"url": "http://127.0.0.1:9/hook"}),
            ("POST", "/me/export", None),
            ("DELETE", "/me", None),
            ("PATCH", "/me", {"display_name": "Scripted"}),
            ("POST", "/consents", {"version": 1, "sha256": "0" * 64}),
        ):
            answer = key.request(method, path, json=body)
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.json()["code"] == "forbidden"
    assert owner.get("/me").json()["status"] == "active"
    assert len(owner.get("/me/api-keys").json()["items"]) == 2


def test_a_moderators_key_never_reaches_moderator_or_operator_routes(
    keys_stack: StackState,
) -> None:
    moderator = consented(keys_stack, "moderators")
    admin = consented(keys_stack, "admins")
    assert moderator.get("/moderation/queue").status_code == 200
    assert admin.get("/admin/flags").status_code == 200
    for person in (moderator, admin):
        key = as_key(keys_stack, make_key(person, ["generate", "read"])["key"])
        assert key.get("/me").json()["roles"] == []
        for method, path in (
            ("GET", "/moderation/queue"),
            ("GET", "/moderation/audit"),
            ("GET", "/moderation/appeals"),
            ("GET", "/admin/flags"),
            ("PUT", "/admin/flags/generation"),
        ):
            answer = key.request(method, path, json={"enabled": False})
            assert answer.status_code == 403, (method, path, answer.text)
    assert Api(keys_stack).get("/health").status_code == 200
    assert (
        consented(keys_stack)
        .post("/generations", json={"prompt": "a boat", "steps": 1})
        .status_code
        == 202
    ), "the switch was not touched"


def test_a_revoked_key_is_refused_at_once(keys_stack: StackState) -> None:
    owner = consented(keys_stack)
    made = make_key(owner, ["read"])
    kept = make_key(owner, ["read"], "kept")
    key = as_key(keys_stack, made["key"])
    assert key.get("/me").status_code == 200
    # Another user can neither see nor revoke it.
    stranger = consented(keys_stack)
    assert stranger.delete(f"/me/api-keys/{made['id']}").status_code == 404
    assert key.get("/me").status_code == 200
    assert owner.delete(f"/me/api-keys/{made['id']}").status_code == 204
    answer = key.get("/me")
    assert answer.status_code == 401 and answer.json()["code"] == "unauthorized"
    assert owner.delete(f"/me/api-keys/{made['id']}").status_code == 404
    assert [k["id"] for k in owner.get("/me/api-keys").json()["items"]] == [kept["id"]]
    assert as_key(keys_stack, kept["key"]).get("/me").status_code == 200


def test_keys_are_listed_without_secrets(keys_stack: StackState) -> None:
    owner = consented(keys_stack)
    made = make_key(owner, ["generate", "read"], "laptop")
    listed = owner.get("/me/api-keys").json()["items"]
    assert listed == [
        {
            "id": made["id"],
            "name": "laptop",
            "prefix": made["prefix"],
            "scopes": ["generate", "read"],
            "created_at": made["created_at"],
            "last_used_at": None,
        }
    ]
    assert as_key(keys_stack, made["key"]).get("/me").status_code == 200
    (used,) = owner.get("/me/api-keys").json()["items"]
    assert used["last_used_at"] is not None
    # Neither the list nor the table holds the key.
    secret_part = made["key"][len(made["prefix"]) :]
    assert secret_part not in json.dumps(used)
    assert not any(made["key"] in json.dumps(item) for item in stored_keys(keys_stack))
    assert consented(keys_stack).get("/me/api-keys").json()["items"] == []


def test_a_key_obeys_restrictions_and_the_quota_as_a_token_does(keys_stack: StackState) -> None:
    owner = consented(keys_stack)
    key = as_key(keys_stack, make_key(owner, ["generate", "read"])["key"])
    for n in range(QUOTA):
        assert (
            key.post("/generations", json={"prompt": f"a cup {n}", "steps": 1}).status_code == 202
        )
    limited = key.post("/generations", json={"prompt": "one more cup", "steps": 1})
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0

    restricted = consented(keys_stack)
    key = as_key(keys_stack, make_key(restricted, ["generate"])["key"])
    moderator = sign_in(keys_stack, "moderators")
    suspended = moderator.post(
        f"/moderation/users/{restricted.user_id}/restriction",
        json={"action": "suspend", "reason": "test"},
    )
    assert suspended.status_code == 200, suspended.text
    answer = key.post("/generations", json={"prompt": "a lamp", "steps": 1})
    assert answer.status_code == 403 and answer.json()["code"] == "account_restricted"
    made = restricted.post("/me/api-keys", json={"name": "new", "scopes": ["read"]})
    assert made.status_code == 403 and made.json()["code"] == "account_restricted"
    # A restricted account can still revoke its keys.
    (shown,) = restricted.get("/me/api-keys").json()["items"]
    assert restricted.delete(f"/me/api-keys/{shown['id']}").status_code == 204


def test_making_a_key_needs_consent_and_valid_fields(keys_stack: StackState) -> None:
    newcomer = sign_in(keys_stack)
    answer = newcomer.post("/me/api-keys", json={"name": "k", "scopes": ["read"]})
    assert answer.status_code == 403 and answer.json()["code"] == "consent_required"
    owner = consented(keys_stack)
    for body, field in (
        ({"scopes": ["read"]}, "name"),
        ({"name": "k", "scopes": []}, "scopes"),
        ({"name": "k", "scopes": ["admin"]}, "scopes.0"),
        ({"name": "k", "scopes": ["read", "read"]}, "scopes"),
        ({"name": " \u200b ", "scopes": ["read"]}, "name"),
        ({"name": "k", "scopes": ["read"], "user_id": "someone"}, "user_id"),
    ):
        answer = owner.post("/me/api-keys", json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["code"] == "invalid_request" and field in answer.json()["details"]
    assert owner.get("/me/api-keys").json()["items"] == []


def test_erasure_deletes_every_key_and_export_lists_them_without_hashes(
    keys_stack: StackState,
) -> None:
    owner = consented(keys_stack)
    made = [make_key(owner, ["read"], f"key {n}") for n in range(2)]
    assert as_key(keys_stack, made[0]["key"]).get("/me").status_code == 200
    started = owner.post("/me/export")
    assert started.status_code == 202, started.text
    export_id = started.json()["export_id"]
    ready = wait_for(
        lambda: (b := owner.get(f"/me/export/{export_id}").json())["status"] == "ready" and b,
        timeout=60,
        what="the export",
    )
    archive = zipfile.ZipFile(io.BytesIO(requests.get(ready["url"], timeout=30).content))
    exported = json.loads(archive.read("api_keys.json"))
    assert sorted(k["id"] for k in exported) == sorted(k["id"] for k in made)
    text = json.dumps(exported)
    assert all(k["key"] not in text for k in made)
    assert not any(
        item["key_hash"]["S"] in text for item in stored_keys(keys_stack) if "key_hash" in item
    )

    assert owner.delete("/me").status_code == 202
    for key in made:
        assert as_key(keys_stack, key["key"]).get("/me").status_code == 401

    def gone() -> bool:
        return not any(owner.user_id in json.dumps(item) for item in stored_keys(keys_stack))

    wait_for(gone, timeout=60, what="the erasure to delete every key")


# The README's "Use the API from a script" snippets, run as written (constants filled in).


def readme_snippets() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("### Use the API from a script", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


class Hook:
    """A loopback webhook receiver that keeps every POST's raw body and signature."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.received: list[tuple[str, bytes]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append((self.headers["Objektify-Signature"], raw))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def hook() -> Iterator[Hook]:
    made = Hook()
    yield made
    made.server.shutdown()


def script_namespace(state: StackState, key: str) -> dict[str, Any]:
    client_code, receiver_code = readme_snippets()
    namespace: dict[str, Any] = {}
    exec(compile(client_code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    namespace.update(API=state.api_url, KEY=key)
    # The receiver's class, without its last two lines (submitting and serving forever).
    definitions = receiver_code.split("\n\nprint(", 1)[0]
    exec(compile(definitions, "README.md", "exec"), namespace)  # noqa: S102
    return namespace


def test_the_readme_snippet_submits_with_a_key_and_verifies_a_signature(
    keys_stack: StackState,
) -> None:
    from chalicelib.services.webhooks import sign

    owner = consented(keys_stack)
    script = script_namespace(keys_stack, make_key(owner, ["generate", "read"])["key"])
    submitted = script["submit"](f"a paper crane {uuid.uuid4().hex[:6]}")
    assert submitted["status"] == "queued"
    done = finished(owner, submitted["id"])
    # A body signed as the delivery consumer signs it (chalicelib/services/webhooks.py).
    raw = json.dumps(done, separators=(",", ":"), sort_keys=True).encode()
    secret = "whsec_" + uuid.uuid4().hex
    header = sign(secret, int(time.time()), raw)
    assert script["verified"](secret, header, raw)
    assert not script["verified"](secret, header, raw.replace(b"published", b"rejected"))
    assert not script["verified"]("whsec_other", header, raw)
    stale = sign(secret, int(time.time()) - 3600, raw)
    assert not script["verified"](secret, stale, raw)


@needs_stream
def test_the_readme_snippet_verifies_a_real_delivery(keys_stack: StackState, hook: Hook) -> None:
    owner = consented(keys_stack)
    answer = owner.put("/me/webhook", json={"url": hook.url})
    assert answer.status_code == 200, answer.text
    secret = answer.json()["secret"]
    script = script_namespace(keys_stack, make_key(owner, ["generate"])["key"])
    submitted = script["submit"](f"a glass swan {uuid.uuid4().hex[:6]}")
    delivery = wait_for(
        lambda: next((d for d in hook.received if submitted["id"].encode() in d[1]), None),
        timeout=90,
        what="the webhook delivery",
    )
    header, raw = delivery
    assert script["verified"](secret, header, raw)
    assert json.loads(raw)["id"] == submitted["id"]
    assert not script["verified"](secret, header, raw + b" ")


def test_the_readme_snippet_verifies_a_delivery_of_the_delivery_consumer(
    hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delivery as the webhooks queue's consumer makes it (services/webhooks.py, the real
    HTTP adapter, a real socket), against in-process AWS: the README's check accepts it."""
    from chalicelib.services import webhooks
    from chalicelib.settings import get_settings
    from tests.support.in_process_aws import aws, consented_profile

    monkeypatch.setenv("OBJEKTIFY_WEBHOOK_ALLOW_LOOPBACK_HTTP", "true")
    get_settings.cache_clear()
    try:
        with aws():
            from chalicelib.adapters.aws import client as aws_client

            sqs = aws_client("sqs")
            queue = sqs.create_queue(QueueName=get_settings().webhooks_queue)["QueueUrl"]
            user = consented_profile("user-readme")
            secret = webhooks.set_hook(user, hook.url).secret
            generation = {
                "id": "01J0000000000000000000000R",
                "status": "published",
                "prompt": "a lighthouse at dusk",
                "updated_at": "2026-12-03T06:00:00.000Z",
            }
            assert webhooks.enqueue(user, generation)
            (message,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)["Messages"]
            assert webhooks.deliver(message["Body"], message["ReceiptHandle"], 1) == "delivered"
    finally:
        get_settings.cache_clear()
    ((header, raw),) = hook.received
    script: dict[str, Any] = {}
    exec(compile(readme_snippets()[0], "README.md", "exec"), script)  # noqa: S102
    assert script["verified"](secret, header, raw)
    assert json.loads(raw) == generation
    assert not script["verified"](secret, header, raw.replace(b"published", b"rejected"))
    assert not script["verified"]("whsec_" + "x" * 43, header, raw)
