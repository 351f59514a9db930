"""The objects and callers the security tests act on, built through the API itself."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from local.config import StackState
from tests.support.client import Api, consented, sign_in
from tests.support.waiting import wait_for

FINAL = {"published", "in_review", "rejected", "failed", "removed"}


def notice_body(image_id: str) -> dict:
    return {
        "image_id": image_id,
        "category": "copyright",
        "explanation": "This copies my painting.",
        "notifier": {"name": "Rita Holder", "email": "rita@example.org"},
        "good_faith": True,
    }


def finished(api: Api, generation_id: str) -> dict:
    def done() -> dict | None:
        body = api.get(f"/generations/{generation_id}").json()
        return body if body["status"] in FINAL else None

    return wait_for(done, timeout=90, what="the generation to finish")


# Callers that are personal API keys: (whose key, its scopes). A key holds none of its owner's
# roles; the matrix's `api_keys` section says what each may reach.
KEY_CALLERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "read_key": ("owner", ("read",)),
    "generate_key": ("owner", ("generate",)),
    "moderator_key": ("moderator", ("generate", "read")),
    "admin_key": ("admin", ("generate", "read")),
    "api_key": ("key_holder", ("generate", "read")),  # the fuzzer's
}


@dataclass
class World:
    state: StackState
    callers: dict[str, Api] = field(default_factory=dict)
    objects: dict[str, str] = field(default_factory=dict)

    def caller(self, role: str) -> Api:
        if role not in self.callers:
            self.callers[role] = self.make_caller(role)
        return self.callers[role]

    def make_caller(self, role: str) -> Api:
        """A new user of the role (for cells that use the caller up, such as DELETE /me)."""
        state = self.state
        if role == "anonymous":
            return Api(state)
        if role in KEY_CALLERS:
            person, scopes = KEY_CALLERS[role]
            return self.key_of(person, scopes)
        if role == "unconsented":
            return sign_in(state)
        if role == "remover":
            # A moderator of its own, whose removals other moderators may decide appeals of.
            return consented(state, "moderators")
        if role in ("moderator", "admin"):
            return consented(state, "moderators" if role == "moderator" else "admins")
        if role == "banned_moderator":
            # Still in the moderators group; an operator banned the account.
            moderator = consented(state, "moderators")
            answer = self.caller("admin").post(
                f"/moderation/users/{moderator.user_id}/restriction",
                json={"action": "ban", "reason": "security matrix"},
            )
            assert answer.status_code == 200, answer.text
            return moderator
        user = consented(state)
        if role in ("suspended", "banned"):
            action = "suspend" if role == "suspended" else "ban"
            answer = self.caller("moderator").post(
                f"/moderation/users/{user.user_id}/restriction",
                json={"action": action, "reason": "security matrix"},
            )
            assert answer.status_code == 200, answer.text
        return user

    def api_key(self, role: str, scopes: tuple[str, ...]) -> dict:
        """A new personal API key of the role's caller, as POST /me/api-keys answers it."""
        made = self.caller(role).post(
            "/me/api-keys", json={"name": f"{role} {' '.join(scopes)}", "scopes": list(scopes)}
        )
        assert made.status_code == 201, made.text
        return dict(made.json())

    def key_of(self, role: str, scopes: tuple[str, ...]) -> Api:
        """A caller that sends a new API key of the role's caller instead of a token."""
        person = self.caller(role)
        return Api(self.state, token=self.api_key(role, scopes)["key"], user_id=person.user_id)

    pool: list[str] = field(default_factory=list)

    def prepare(self, count: int) -> None:
        """Paint `count` of the owner's images at once, for the cells that use one up."""
        owner = self.caller("owner")
        created = [
            owner.post("/generations", json={"prompt": f"a still lake {i}", "steps": 1})
            for i in range(count)
        ]
        for answer in created:
            assert answer.status_code == 202, answer.text
            final = finished(owner, answer.json()["id"])
            assert final["status"] == "published", final
            self.pool.append(str(final["id"]))

    def published_image(self, owner: Api | None = None) -> str:
        if owner is None and self.pool:
            return self.pool.pop()
        owner = owner or self.caller("owner")
        created = owner.post(
            "/generations", json={"prompt": f"a quiet pond {uuid.uuid4().hex[:6]}", "steps": 1}
        )
        assert created.status_code == 202, created.text
        final = finished(owner, created.json()["id"])
        assert final["status"] == "published", final
        return str(final["id"])

    def in_review_image(self, owner: Api | None = None) -> str:
        image_id = self.published_image(owner)
        answer = consented(self.state).post(
            f"/gallery/{image_id}/reports", json={"reason": "other"}
        )
        assert answer.status_code == 202
        creator = owner or self.caller("owner")
        wait_for(
            lambda: creator.get(f"/generations/{image_id}").json()["status"] == "in_review",
            timeout=10,
            what="the image to enter review",
        )
        return image_id

    def export_of(self, api: Api) -> str:
        answer = api.post("/me/export")
        assert answer.status_code == 202, answer.text
        return str(answer.json()["export_id"])

    def review_token(self, image_id: str) -> str:
        link = self.caller("moderator").post(f"/moderation/images/{image_id}/review-link")
        assert link.status_code == 201, link.text
        return str(link.json()["url"].rsplit("/review/", 1)[1])

    def decision(self) -> str:
        """A statement of reasons about the owner: one of their images removed by a moderator
        who is none of the matrix's callers."""
        image_id = self.published_image()
        removed = self.caller("remover").post(
            f"/moderation/images/{image_id}/decision",
            json={"action": "remove", "reason": "security matrix", "category": "other"},
        )
        assert removed.status_code == 200, removed.text
        items = self.caller("owner").get("/me/decisions?limit=100").json()["items"]
        return str(next(s["id"] for s in items if s["image_id"] == image_id))

    def appeal(self) -> str:
        """An open appeal of a decision about the owner."""
        decision_id = self.decision()
        filed = self.caller("owner").post(
            f"/me/decisions/{decision_id}/appeal", json={"explanation": "it is a pond"}
        )
        assert filed.status_code == 201, filed.text
        return str(filed.json()["id"])

    def notice_token(self, image_id: str) -> str:
        """The status token of a notice, sent with no account, on an image."""
        filed = self.caller("anonymous").post("/notices", json=notice_body(image_id))
        assert filed.status_code == 201, filed.text
        return str(filed.json()["status_url"].rsplit("/notices/", 1)[1])

    def shared(self, name: str) -> str:
        """Objects every read-only cell can share."""
        if name not in self.objects:
            owner = self.caller("owner")
            if name == "published":
                self.objects[name] = self.published_image()
            elif name == "private_generation":
                # A generation the owner made and nobody else may see (any state).
                created = owner.post(
                    "/generations", json={"prompt": "my private sketch", "steps": 1}
                )
                self.objects[name] = str(created.json()["id"])
            elif name == "in_review":
                self.objects[name] = self.in_review_image()
            elif name == "owner_export":
                self.objects[name] = self.export_of(owner)
            elif name == "notice_token":
                self.objects[name] = self.notice_token(self.shared("published"))
            elif name == "decision":
                self.objects[name] = self.decision()
            elif name == "appeal":
                self.objects[name] = self.appeal()
            elif name == "owner_upload":
                # An upload the owner started (pending: no file is needed to be its owner's).
                started = owner.post("/uploads", json={"rights": "own", "attest": True})
                assert started.status_code == 201, started.text
                self.objects[name] = str(started.json()["upload_id"])
            elif name == "owner_key":
                self.objects[name] = str(self.api_key("owner", ("read",))["id"])
            else:
                raise KeyError(name)
            time.sleep(0)
        return self.objects[name]
