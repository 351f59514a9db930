"""Content credentials over HTTP: a published image's full-size download and web image carry a
C2PA manifest that c2pa's own Reader validates against the local development root (the trust
anchor `make dev` keeps in its folder), signed through the emulator's KMS key; one changed
pixel byte breaks it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import c2pa
import pytest
import requests

from local.config import StackState
from tests.support.aws import client, name
from tests.support.client import FINAL, anonymous, publish_one, sign_in
from tests.support.stack import running_stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
CREATED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def validate(data: bytes, mime: str, anchor: str) -> dict[str, Any]:
    """c2pa's Reader on `data`, trusting `anchor` (PEM): the state, the failure codes and the
    active manifest."""
    settings = {"trust": {"trust_anchors": anchor}, "verify": {"verify_trust": True}}
    with (
        c2pa.Context.from_dict(settings) as context,
        c2pa.Reader(mime, io.BytesIO(data), None, context) as reader,
    ):
        results = reader.get_validation_results() or {}
        return {
            "state": reader.get_validation_state(),
            "failures": [f["code"] for f in results["activeManifest"].get("failure", [])],
            "successes": [s["code"] for s in results["activeManifest"].get("success", [])],
            "manifest": reader.get_active_manifest(),
        }


@pytest.fixture(scope="module")
def published(stack: StackState) -> dict[str, Any]:
    alice = sign_in(stack)
    alice.accept_current_terms()
    made = publish_one(alice)
    public = anonymous(stack)
    detail = public.get(f"/gallery/{made['id']}").json()
    download = public.get(f"/gallery/{made['id']}/download", allow_redirects=False)
    assert download.status_code == 302
    full = requests.get(download.headers["Location"], timeout=30)
    web = requests.get(detail["image_url"], timeout=30)
    assert full.status_code == web.status_code == 200
    root = (Path(stack.extra["dir"]) / "credentials-root.pem").read_text()
    return {
        "id": made["id"],
        "detail": detail,
        "full": full.content,
        "web": web.content,
        "root": root,
    }


@pytest.mark.parametrize(("copy", "mime"), [("full", "image/png"), ("web", "image/webp")])
def test_a_published_copy_carries_a_manifest_signed_by_the_service(
    published: dict[str, Any], copy: str, mime: str
) -> None:
    found = validate(published[copy], mime, published["root"])
    assert found["state"] == "Trusted", found["failures"]
    assert found["failures"] == []
    assert "signingCredential.trusted" in found["successes"]
    manifest = found["manifest"]
    assert manifest["claim_generator_info"][0]["name"] == "Objektify"
    assert manifest["signature_info"]["issuer"] == "Objektify"
    assertions = {a["label"]: a["data"] for a in manifest["assertions"]}
    actions = (assertions.get("c2pa.actions.v2") or assertions["c2pa.actions"])["actions"]
    created = [a for a in actions if a["action"] == "c2pa.created"]
    assert len(created) == 1
    assert created[0]["digitalSourceType"] == CREATED
    model = published["detail"]["model"]
    assert created[0]["softwareAgent"] == {"name": model["name"], "version": model["version"]}
    assert assertions["com.objektify.image"] == {"image_id": published["id"]}
    assert b"Iptc4xmpExt:DigitalSourceType" in published[copy]  # the XMP packet is kept


def test_one_changed_pixel_byte_in_the_download_fails_validation(
    published: dict[str, Any],
) -> None:
    tampered = bytearray(published["full"])
    tampered[tampered.index(b"IDAT") + 100] ^= 0x01
    found = validate(bytes(tampered), "image/png", published["root"])
    assert found["state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in found["failures"]


def test_a_manifest_is_not_trusted_without_the_service_root(
    published: dict[str, Any], tmp_path: Path
) -> None:
    """The trust comes from the anchor: another root does not make the signer trusted."""
    from cryptography.hazmat.primitives import serialization

    from objektify.credentials import development_root

    other = development_root(tmp_path)[1].public_bytes(serialization.Encoding.PEM).decode()
    found = validate(published["full"], "image/png", other)
    assert found["state"] != "Trusted"
    assert "signingCredential.trusted" not in found["successes"]


def test_the_image_page_names_the_content_credentials(published: dict[str, Any]) -> None:
    detail = published["detail"]
    assert detail["content_credentials"] == {"signed_by": "Objektify", "model": detail["model"]}


def test_an_image_published_before_signing_claims_no_credentials(stack: StackState) -> None:
    """Its copies were put before publishing signed them: its record lacks the mark that every
    publishing transition now writes, and its page says nothing of credentials."""
    alice = sign_in(stack)
    alice.accept_current_terms()
    made = publish_one(alice)
    client(stack, "dynamodb").update_item(
        TableName=name(stack, "generations"),
        Key={"generation_id": {"S": made["id"]}},
        UpdateExpression="REMOVE copies_signed",
    )
    detail = anonymous(stack).get(f"/gallery/{made['id']}").json()
    assert detail["id"] == made["id"]
    assert "content_credentials" not in detail


def test_an_image_that_cannot_be_signed_is_not_published_until_it_can(tmp_path: Path) -> None:
    """KMS refuses every Sign (the fault proxy answers 503): the scan fails, is retried and goes
    to the DLQ with nothing public; once KMS answers again, a redrive publishes it signed."""
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({"services": []}))
    env = {
        "OBJEKTIFY_LOCAL_FAULTS": str(faults),
        "OBJEKTIFY_QUEUE_MAX_RECEIVES": "2",
        "OBJEKTIFY_SCANNING_DEADLINE_SECONDS": "600",  # the sweeper must not end it meanwhile
    }
    with running_stack(tmp_path / "stack", env) as state:
        faults.write_text(
            json.dumps({"services": ["kms"], "operations": ["Sign"], "error_rate": 1.0})
        )
        alice = sign_in(state)
        alice.accept_current_terms()
        created = alice.post("/generations", json={"prompt": "a red kite", "steps": 2})
        assert created.status_code == 202, created.text
        image_id = created.json()["id"]
        sqs, s3 = client(state, "sqs"), client(state, "s3")
        dlq = sqs.get_queue_url(QueueName=name(state, "scan") + "-dlq")["QueueUrl"]

        def dead_lettered() -> int | None:
            attrs = sqs.get_queue_attributes(
                QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
            )
            count = int(attrs["Attributes"]["ApproximateNumberOfMessages"])
            return count or None

        wait_for(dead_lettered, timeout=120, what="the unsignable output's scan in the DLQ")
        assert alice.get(f"/generations/{image_id}").json()["status"] == "scanning"
        public = s3.list_objects_v2(Bucket=name(state, "public"), Prefix=f"images/{image_id}")
        assert public.get("KeyCount", 0) == 0
        assert anonymous(state).get(f"/gallery/{image_id}").status_code == 404

        faults.write_text(json.dumps({"services": []}))
        env_cli = {**os.environ, "OBJEKTIFY_LOCAL_DIR": state.extra["dir"]}
        env_cli.pop("AWS_ENDPOINT_URL", None)
        subprocess.run(
            [sys.executable, "-m", "objektify.cli", "dlq", "redrive", name(state, "scan")],
            cwd=ROOT,
            env=env_cli,
            capture_output=True,
            check=True,
        )

        def published() -> dict[str, Any] | None:
            body: dict[str, Any] = alice.get(f"/generations/{image_id}").json()
            return body if body["status"] in FINAL else None

        assert wait_for(published, timeout=90, what="the redriven scan")["status"] == "published"
        detail = anonymous(state).get(f"/gallery/{image_id}").json()
        web = requests.get(detail["image_url"], timeout=30).content
        root = (Path(state.extra["dir"]) / "credentials-root.pem").read_text()
        assert validate(web, "image/webp", root)["state"] == "Trusted"
