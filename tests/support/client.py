"""An HTTP client for the local stack's API, signed in as a local user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from local.config import StackState
from local.tokens import issue_token
from tests.support.waiting import wait_for

FINAL = {"published", "in_review", "rejected", "failed", "removed"}


@dataclass
class Api:
    state: StackState
    token: str | None = None
    user_id: str | None = None
    session: requests.Session = field(default_factory=requests.Session)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        out = dict(headers or {})
        if self.token and "Authorization" not in out:
            out["Authorization"] = f"Bearer {self.token}"
        return self.session.request(
            method, self.state.api_url + path, json=json, headers=out, timeout=30, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def accept_current_terms(self) -> dict[str, Any]:
        terms = self.get("/terms/current").json()
        answer = self.post(
            "/consents", json={"version": terms["version"], "sha256": terms["sha256"]}
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())


def sign_in(state: StackState, *groups: str, name: str | None = None) -> Api:
    """A new local user (unique name unless given) holding `groups`."""
    username = name or f"user-{uuid.uuid4().hex[:10]}"
    api = Api(state, token=issue_token(state, username, tuple(groups)))
    api.user_id = api.get("/me").json()["user_id"]
    return api


def consented(state: StackState, *groups: str) -> Api:
    """A new local user holding `groups` who has accepted the current terms."""
    api = sign_in(state, *groups)
    api.accept_current_terms()
    return api


def anonymous(state: StackState) -> Api:
    return Api(state)


def publish_one(api: Api, prompt: str | None = None) -> dict[str, Any]:
    """A generation of `api`'s user, submitted and waited for until published (its body)."""
    created = api.post(
        "/generations",
        json={"prompt": prompt or f"a calm field {uuid.uuid4().hex[:6]}", "steps": 2},
    )
    assert created.status_code == 202, created.text

    def done() -> dict[str, Any] | None:
        body: dict[str, Any] = api.get(f"/generations/{created.json()['id']}").json()
        return body if body["status"] in FINAL else None

    final = wait_for(done, timeout=90, what="the generation to finish")
    assert final["status"] == "published", final
    return final
