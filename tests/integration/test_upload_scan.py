"""The upload scan through the local stack: a real presigned POST from POST /uploads, S3's
event through the upload scan queue to the scan, and what the owner then reads over HTTP."""

from __future__ import annotations

import io
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from local.config import StackState
from tests.integration.test_model_rollout import run_module
from tests.support.aws import client, name
from tests.support.client import Api, anonymous, consented, publish_one, sign_in
from tests.support.waiting import wait_for
from tests.unit.test_upload_images import GPS_IFD, jpeg_with_gps, picture

pytestmark = pytest.mark.integration

FINAL = ("ready", "rejected")
MB = 1024 * 1024


def upload(api: Api, data: bytes, content_type: str, sent_as: str | None = None) -> str:
    """POST /uploads, then the browser's part: the presigned POST straight to S3."""
    answer = api.post(
        "/uploads", json={"rights": "own", "attest": True, "content_type": content_type}
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    fields = dict(body["fields"])
    fields.setdefault("Content-Type", content_type)
    if sent_as is not None:
        fields["Content-Type"] = sent_as
    posted = requests.post(
        body["url"],
        data=fields,
        files={"file": ("picture", data, fields["Content-Type"])},
        timeout=60,
    )
    assert posted.status_code in (200, 201, 204), posted.text
    return str(body["upload_id"])


def settled(api: Api, upload_id: str) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        answer = api.get(f"/uploads/{upload_id}")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found if found["status"] in FINAL else None

    return wait_for(final, timeout=120, what=f"upload {upload_id} to be scanned")


def uploads_bucket(state: StackState) -> str:
    return name(state, "uploads")


def uploads_bucket_keys(state: StackState) -> list[str]:
    listed = client(state, "s3").list_objects_v2(Bucket=uploads_bucket(state))
    return [entry["Key"] for entry in listed.get("Contents", [])]


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_a_png_and_a_jpeg_with_gps_become_ready_without_metadata(stack: StackState) -> None:
    user = consented(stack)
    jpeg = jpeg_with_gps(size=(640, 400))
    assert Image.open(io.BytesIO(jpeg)).getexif().get_ifd(GPS_IFD)
    for data, content_type in ((png_bytes(picture((300, 300))), "image/png"), (jpeg, "image/jpeg")):
        upload_id = upload(user, data, content_type)
        done = settled(user, upload_id)
        assert done["status"] == "ready", done
        assert "reason" not in done or done["reason"] is None
    keys = uploads_bucket_keys(stack)
    assert not [k for k in keys if k.startswith("incoming/")]  # every original deleted
    stored = client(stack, "s3").get_object(
        Bucket=uploads_bucket(stack), Key=f"clean/{upload_id}.png"
    )
    clean = stored["Body"].read()
    image = Image.open(io.BytesIO(clean))
    assert image.format == "PNG" and image.size == (640, 400)
    assert not image.getexif() and b"PhoneMaker" not in clean and b"eXIf" not in clean


@pytest.mark.parametrize(
    ("data", "content_type", "sent_as"),
    [
        # In AWS S3's POST policy refuses both; the emulator stores them, the scan refuses them.
        (b"\x00" * (11 * MB), "image/png", None),
        (b"<html><script>alert(document.cookie)</script></html>", "image/png", "text/html"),
    ],
    ids=["11 MB", "text/html"],
)
def test_what_s3s_policy_refuses_never_becomes_ready(
    stack: StackState, data: bytes, content_type: str, sent_as: str | None
) -> None:
    user = consented(stack)
    upload_id = upload(user, data, content_type, sent_as)
    done = settled(user, upload_id)
    assert (done["status"], done.get("reason")) == ("rejected", "invalid_file")
    assert user.get("/me/decisions?limit=100").json()["items"] == []  # no strike, no statement


def bomb() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = (40000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 100_000))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "data",
    [bomb(), png_bytes(picture()) + b"<html><script>alert(1)</script></html>"],
    ids=["decompression bomb", "PNG+HTML polyglot"],
)
def test_a_bomb_and_a_polyglot_are_rejected(stack: StackState, data: bytes) -> None:
    user = consented(stack)
    done = settled(user, upload(user, data, "image/png"))
    assert (done["status"], done.get("reason")) == ("rejected", "invalid_file")


def decisions_of(api: Api) -> list[dict[str, Any]]:
    answer = api.get("/me/decisions?limit=100")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def audited_rejection(moderator: Api, upload_id: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        entries = moderator.get("/moderation/audit?limit=100").json()["items"]
        return next((e for e in entries if e["target"]["id"] == upload_id), None)

    return wait_for(found, timeout=30, what="the rejection's audit entry")


def listed_and_uploaded(
    stack: StackState, tmp_path: Path, size: tuple[int, int]
) -> tuple[Api, str, Path, bytes]:
    """A JPEG's cleaned copy imported on a partner's hash list (category illegal), then the
    JPEG uploaded by a new user: (the user, the upload id, the list's file, the JPEG)."""
    from chalicelib import upload_images
    from chalicelib.provenance import fingerprints

    data = jpeg_with_gps(size=size)
    clean = upload_images.clean_png(upload_images.verify_upload(data, "image/jpeg"))
    # A re-encoded copy of the listed picture: PDQ finds it all the same.
    listed = tmp_path / f"partner-{uuid.uuid4().hex[:6]}.csv"
    listed.write_text(f"pdq,quality\n{fingerprints.compute(clean.image).hex},100\n")
    imported = run_module(
        stack, "objektify.cli", "hashlist", "import", str(listed), "--category", "illegal"
    )
    assert imported.returncode == 0, imported.stderr
    user = consented(stack)
    return user, upload(user, data, "image/jpeg"), listed, data


def test_an_upload_on_an_imported_hash_list_is_rejected_with_a_statement(
    stack: StackState, tmp_path: Path
) -> None:
    user, upload_id, listed, _ = listed_and_uploaded(stack, tmp_path, (500, 400))
    done = settled(user, upload_id)
    assert (done["status"], done.get("reason")) == ("rejected", "illegal")
    assert listed.stem not in str(done)  # never which list
    [statement] = decisions_of(user)
    assert statement["decision"] == "content_removed" and statement["category"] == "illegal"
    assert statement["upload_id"] == upload_id and listed.stem not in str(statement)
    assert upload_id not in statement["facts"]  # the facts go into the transparency database
    assert statement["how_to_appeal"]
    moderator = sign_in(stack, "moderators")
    entry = audited_rejection(moderator, upload_id)
    assert entry["action"] == "reject" and entry["target"]["type"] == "upload"
    assert entry["details"]["check"] == "hash_list" and entry["details"]["strike"] is True


def test_the_saved_bytes_of_an_image_a_moderator_removed_are_rejected(stack: StackState) -> None:
    creator = consented(stack)
    published = publish_one(creator)
    download = anonymous(stack).get(f"/gallery/{published['id']}/download", allow_redirects=False)
    assert download.status_code == 302, download.text
    saved = requests.get(download.headers["Location"], timeout=60)  # the full-size PNG
    assert saved.status_code == 200
    moderator = sign_in(stack, "moderators")
    removed = moderator.post(
        f"/moderation/images/{published['id']}/decision",
        json={"action": "remove", "reason": "Graphic violence.", "category": "violent"},
    )
    assert removed.status_code == 200, removed.text
    someone = consented(stack)
    upload_id = upload(someone, saved.content, "image/png")
    done = settled(someone, upload_id)
    assert (done["status"], done.get("reason")) == ("rejected", "violent")
    assert [s["category"] for s in decisions_of(someone)] == ["violent"]
    audited_rejection(moderator, upload_id)


def strikes_of(state: StackState, user_id: str) -> int:
    found = client(state, "dynamodb").get_item(
        TableName=name(state, "users"), Key={"user_id": {"S": user_id}}, ConsistentRead=True
    )
    return int(found["Item"].get("strikes", {"N": "0"})["N"])


def test_a_reversed_rejection_makes_the_upload_ready_and_allows_the_picture(
    stack: StackState, tmp_path: Path
) -> None:
    user, upload_id, _, data = listed_and_uploaded(stack, tmp_path, (480, 360))
    assert settled(user, upload_id)["status"] == "rejected"
    assert strikes_of(stack, user.user_id) == 1
    [statement] = decisions_of(user)
    filed = user.post(
        f"/me/decisions/{statement['id']}/appeal", json={"explanation": "My own garden."}
    )
    assert filed.status_code == 201, filed.text

    moderator = sign_in(stack, "moderators")
    queue = moderator.get("/moderation/appeals?limit=100")
    assert queue.status_code == 200, queue.text
    mine = next(a for a in queue.json()["items"] if a["id"] == statement["id"])
    assert mine["decision"]["upload_id"] == upload_id and mine["upload_url"]
    evidence = requests.get(mine["upload_url"], timeout=60)
    assert evidence.status_code == 200 and evidence.content == data  # as it was posted
    decided = moderator.post(
        f"/moderation/appeals/{statement['id']}/decision",
        json={"action": "reverse", "reason": "A garden; the list's match is wrong."},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["outcome"] == "reversed"

    done = user.get(f"/uploads/{upload_id}")
    assert done.status_code == 200 and done.json()["status"] == "ready", done.text
    assert strikes_of(stack, user.user_id) == 0
    told = decisions_of(user)
    outcome = next(s for s in told if s["decision"] == "decision_reversed")
    assert outcome["refers_to"] == statement["id"] and outcome["upload_id"] == upload_id
    appealed = next(s for s in told if s["id"] == statement["id"])
    assert appealed["appeal"]["outcome"] == "reversed"
    from chalicelib import resources

    kept = uploads_bucket_keys(stack)
    assert resources.clean_upload_key(upload_id) in kept
    assert resources.quarantine_key(resources.upload_key(upload_id)) not in kept  # evidence gone
    # The same picture again: ready, not refused again for the match found false.
    again = upload(user, data, "image/jpeg")
    assert settled(user, again)["status"] == "ready"
