"""Hash lists through the local stack (issue 20): an image a moderator removed is blocked with
the decision's category, and a list imported with `objektify hashlist import` is looked up,
both as the upload scan will ask (`hash_lists.find_match`, run with the app's settings for the
stack)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from chalicelib.provenance import fingerprints
from local.config import StackState, app_env
from tests.support.client import Api, anonymous, consented, sign_in
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
FINAL = {"published", "in_review", "rejected", "failed", "removed"}


def find_match(state: StackState, pdq_hex: str) -> dict[str, Any] | None:
    """What the upload scan's look-up answers for the hash, on this stack."""
    env = {**os.environ, **app_env(state, Path(state.extra["dir"]))}
    program = (
        "import dataclasses, json, sys\n"
        "from chalicelib.services.hash_lists import find_match\n"
        "found = find_match(sys.argv[1])\n"
        "print(json.dumps(dataclasses.asdict(found) if found else None))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, pdq_hex],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer: dict[str, Any] | None = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def published(api: Api) -> str:
    created = api.post(
        "/generations",
        json={"prompt": f"a harbour at dusk {uuid.uuid4().hex[:6]}", "steps": 1},
    ).json()

    def done() -> dict | None:
        body = api.get(f"/generations/{created['id']}").json()
        return body if body["status"] in FINAL else None

    final = wait_for(done, timeout=90, what="the image to publish")
    assert final["status"] == "published", final
    return str(created["id"])


def download(public: Api, image_id: str) -> bytes:
    found = public.get(f"/gallery/{image_id}/download", allow_redirects=False)
    assert found.status_code == 302, found.text
    full = requests.get(found.headers["Location"], timeout=30)
    assert full.status_code == 200
    return full.content


def test_an_image_a_moderator_removed_is_blocked_with_the_decisions_category(
    mod_stack: StackState,
) -> None:
    creator = consented(mod_stack)
    image_id = published(creator)
    saved = download(anonymous(mod_stack), image_id)  # what someone may upload again later
    pdq = fingerprints.compute(Image.open(io.BytesIO(saved)))
    assert pdq.usable, f"the local model's output is too flat: {pdq.quality}"
    assert find_match(mod_stack, pdq.hex) is None
    for _ in range(2):
        reported = consented(mod_stack).post(
            f"/gallery/{image_id}/reports", json={"reason": "violent"}
        )
        assert reported.status_code == 202, reported.text
    moderator = sign_in(mod_stack, "moderators")
    removed = moderator.post(
        f"/moderation/images/{image_id}/decision",
        json={"action": "remove", "reason": "sexual content", "category": "sexual"},
    )
    assert removed.status_code == 200 and removed.json()["status"] == "removed", removed.text
    assert find_match(mod_stack, pdq.hex) == {"category": "sexual", "source": "decisions"}


def test_an_imported_list_is_looked_up_and_importing_it_again_changes_nothing(
    mod_stack: StackState, tmp_path: Path
) -> None:
    listed = f"{uuid.uuid4().int:032x}" * 2
    path = tmp_path / "partner.csv"
    path.write_text(f"pdq_hash,id,tags\n{listed},1,media_type_photo\n", encoding="utf-8")
    env = {**os.environ, "OBJEKTIFY_LOCAL_DIR": mod_stack.extra["dir"]}
    env.pop("AWS_ENDPOINT_URL", None)
    command = [sys.executable, "-m", "objektify.cli", "hashlist", "import", str(path)]
    for _ in range(2):
        done = subprocess.run(
            [*command, "--category", "illegal"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert "1 PDQ hashes imported into list 'partner'" in done.stdout
    assert find_match(mod_stack, listed) == {"category": "illegal", "source": "partner"}
    # One bit away is the same picture; the hash with every bit flipped is not.
    near = f"{int(listed, 16) ^ 1:064x}"
    assert find_match(mod_stack, near) == {"category": "illegal", "source": "partner"}
    assert find_match(mod_stack, f"{int(listed, 16) ^ ((1 << 256) - 1):064x}") is None
