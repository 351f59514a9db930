"""The foundation through the local stack over HTTP: terms, sign-in, consent, roles, errors."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from local.config import StackState
from tests.support.client import Api, anonymous, sign_in
from tests.support.tokens import claims_for, signed_by_emulator, signed_by_stranger

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_TERMS = (ROOT / "chalicelib" / "terms" / "v1.md").read_text(encoding="utf-8")


def assert_error(response: requests.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_health_answers_ok(stack: StackState) -> None:
    response = anonymous(stack).get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_current_terms_are_the_shipped_first_version(stack: StackState) -> None:
    body = anonymous(stack).get("/terms/current").json()
    assert body["version"] == 1
    assert body["text"] == SHIPPED_TERMS
    assert body["sha256"] == hashlib.sha256(SHIPPED_TERMS.encode("utf-8")).hexdigest()
    assert body["published_at"].endswith("Z")
    assert "Please read and accept the terms below" in body["text"]


def test_shipped_terms_match_the_first_terms_text() -> None:
    shared = ROOT.parent / "shared" / "terms-v1.md"
    if not shared.exists():
        pytest.skip("no shared terms text beside the checkout")
    assert shared.read_text(encoding="utf-8") == SHIPPED_TERMS


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer garbage", "Basic abc", "Bearer a.b.c"])
def test_missing_or_malformed_token_is_unauthorized(stack: StackState, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    assert_error(anonymous(stack).get("/me", headers=headers), 401, "unauthorized")


@pytest.mark.parametrize(
    "case",
    ["expired", "wrong_issuer", "wrong_client", "id_token_use", "not_yet_valid", "no_expiry"],
)
def test_token_with_a_bad_claim_is_unauthorized(stack: StackState, case: str) -> None:
    overrides = {
        "expired": {"exp": 1_000_000_000, "iat": 999_999_000},
        "wrong_issuer": {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"},
        "wrong_client": {"client_id": "someone-elses-client"},
        "id_token_use": {"token_use": "id"},
        "not_yet_valid": {"nbf": 4_000_000_000},
        "no_expiry": {"exp": None},
    }[case]
    token = signed_by_emulator(claims_for(stack, **overrides))
    response = anonymous(stack).get("/me", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401, "unauthorized")


def test_well_formed_token_signed_by_the_emulator_is_accepted(stack: StackState) -> None:
    # The control for the cases above: only the claim under test makes them fail.
    token = signed_by_emulator(claims_for(stack))
    response = anonymous(stack).get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


def test_token_signed_with_another_key_is_unauthorized(stack: StackState) -> None:
    token = signed_by_stranger(claims_for(stack))
    response = anonymous(stack).get("/me", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401, "unauthorized")


def test_token_with_unknown_key_id_is_unauthorized(stack: StackState) -> None:
    token = signed_by_emulator(claims_for(stack), kid="not-in-the-jwks")
    response = anonymous(stack).get("/me", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401, "unauthorized")


def test_new_user_must_consent_before_creating(stack: StackState) -> None:
    alice = sign_in(stack)
    me = alice.get("/me").json()
    assert me["status"] == "active"
    assert me["consent"] == {"accepted_version": None, "current_version": 1, "required": True}
    body = assert_error(
        alice.post("/generations", json={"prompt": "a lighthouse at dusk"}), 403, "consent_required"
    )
    assert body["details"]["current_version"] == 1


def test_accepting_the_current_terms_lifts_the_gate(stack: StackState) -> None:
    alice = sign_in(stack)
    accepted = alice.accept_current_terms()
    assert accepted["version"] == 1
    assert accepted["accepted_at"].endswith("Z")
    me = alice.get("/me").json()
    assert me["consent"] == {"accepted_version": 1, "current_version": 1, "required": False}
    answer = alice.post("/generations", json={"prompt": "a lighthouse at dusk"})
    assert answer.status_code == 202, answer.text


def test_wrong_sha256_is_refused_and_records_nothing(stack: StackState) -> None:
    alice = sign_in(stack)
    body = assert_error(
        alice.post("/consents", json={"version": 1, "sha256": "0" * 64}), 400, "invalid_request"
    )
    assert "sha256" in body["details"]
    assert alice.get("/me").json()["consent"]["required"] is True


def test_accepting_a_version_that_is_not_current_is_outdated(stack: StackState) -> None:
    alice = sign_in(stack)
    current = alice.get("/terms/current").json()
    response = alice.post(
        "/consents", json={"version": current["version"] + 1, "sha256": current["sha256"]}
    )
    body = assert_error(response, 409, "terms_outdated")
    assert body["details"]["current_version"] == current["version"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"version": 1}, "sha256"),
        ({"sha256": "a" * 64}, "version"),
        ({"version": "1", "sha256": "a" * 64}, "version"),
        ({"version": 1, "sha256": "a" * 64, "user_id": "someone"}, "user_id"),
    ],
)
def test_invalid_consent_body_names_the_field(stack: StackState, body: dict, field: str) -> None:
    alice = sign_in(stack)
    details = assert_error(alice.post("/consents", json=body), 400, "invalid_request")["details"]
    assert field in details


def test_bad_json_is_invalid_request(stack: StackState) -> None:
    alice = sign_in(stack)
    response = alice.post(
        "/consents", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "invalid_request")


def test_unknown_route_and_wrong_method_use_the_contract_body(stack: StackState) -> None:
    assert_error(anonymous(stack).get("/no/such/route"), 404, "not_found")
    response = anonymous(stack).delete("/health")
    assert_error(response, 405, "method_not_allowed")


def test_plain_user_and_moderator_cannot_publish_terms(stack: StackState) -> None:
    for api in (sign_in(stack), sign_in(stack, "moderators")):
        assert_error(api.post("/admin/terms", json={"text": "new"}), 403, "forbidden")
    assert_error(anonymous(stack).post("/admin/terms", json={"text": "x"}), 401, "unauthorized")


def test_me_reports_the_callers_roles(stack: StackState) -> None:
    moderator = sign_in(stack, "moderators")
    assert moderator.get("/me").json()["roles"] == ["moderators"]


def test_responses_carry_security_headers(stack: StackState) -> None:
    alice = sign_in(stack)
    response = alice.get("/me")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_revised_terms_require_fresh_consent(fresh_stack: StackState) -> None:
    admin = sign_in(fresh_stack, "admins")
    alice = sign_in(fresh_stack)
    alice.accept_current_terms()
    published = admin.post("/admin/terms", json={"text": "Revised terms.\nBe kind."})
    assert published.status_code == 201, published.text
    assert published.json()["version"] == 2
    assert published.json()["sha256"] == hashlib.sha256(b"Revised terms.\nBe kind.").hexdigest()
    me = alice.get("/me").json()
    assert me["consent"] == {"accepted_version": 1, "current_version": 2, "required": True}
    body = assert_error(alice.post("/generations", json={"prompt": "x"}), 403, "consent_required")
    assert body["details"]["current_version"] == 2
    old = alice.post(
        "/consents",
        json={"version": 1, "sha256": hashlib.sha256(SHIPPED_TERMS.encode()).hexdigest()},
    )
    assert_error(old, 409, "terms_outdated")
    alice.accept_current_terms()
    assert alice.get("/me").json()["consent"]["required"] is False


def test_token_command_prints_a_token_the_stack_accepts(stack: StackState, tmp_path: Path) -> None:
    import os

    directory = Path(stack_dir(stack))
    env = {**os.environ, "OBJEKTIFY_LOCAL_DIR": str(directory)}
    out = subprocess.run(
        [sys.executable, "-m", "objektify.cli", "token", "carol", "--group", "moderators"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = out.stdout.strip()
    me = Api(stack, token=token).get("/me")
    assert me.status_code == 200
    assert me.json()["roles"] == ["moderators"]


def stack_dir(state: StackState) -> str:
    return state.extra["dir"]
