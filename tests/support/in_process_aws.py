"""moto in this process, with the app's tables, buckets and the erasures queue: for tests of
services that need real AWS semantics (conditions, transactions) but no running stack."""

from __future__ import annotations

import datetime
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import moto

from chalicelib import resources
from chalicelib.models import TABLE_MODELS
from chalicelib.settings import get_settings
from local.bootstrap import credentials_key


@cache
def _development_root() -> Path:
    """One development root for the process: every world's chain is issued by it."""
    return Path(tempfile.mkdtemp(prefix="objektify-credentials-root-"))


@contextmanager
def aws() -> Iterator[None]:
    """moto in this process, with the tables, buckets and queue the steps use, and the key and
    chain that sign what is published."""
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    endpoint = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("AWS_ENDPOINT")}
    with moto.mock_aws():
        from chalicelib.adapters.aws import client

        client.cache_clear()
        for model in TABLE_MODELS:
            model.create_table(wait=True)
        s = get_settings()
        for bucket in resources.buckets(s):
            client("s3").create_bucket(Bucket=bucket)
        client("sqs").create_queue(QueueName=s.erasures_queue)
        credentials_key(client("kms"), client("ssm"), _development_root())
        try:
            yield
        finally:
            client.cache_clear()
    os.environ.update(endpoint)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


# A world to act in: people, and images taken through the model and the scan ----------------

# What the stand-in scanner finds, per outcome asked for (see chalicelib/policy/image_labels.json).
SCANNED = {"publish": (), "review": (("Violence", 0.6),), "reject": (("Violence", 0.95),)}


def consented_profile(user_id: str) -> str:
    """A signed-up user in good standing who accepted the current terms."""
    from chalicelib.adapters import clock
    from chalicelib.models.users import ACTIVE, UserProfile
    from chalicelib.services import terms

    current = terms.current_terms_uncached()
    now = clock.now()
    UserProfile(
        user_id,
        status=ACTIVE,
        strikes=0,
        accepted_terms_version=current.version,
        accepted_terms_sha256=current.sha256,
        created_at=now,
        updated_at=now,
    ).save()
    return user_id


def stored_generation(generation_id: str, status: str, at: datetime.datetime) -> None:
    """A generation item of user-1 in `status`, written straight to the table (as the stream
    tests need it: no submit, no quota)."""
    from chalicelib.models.generations import Generation

    Generation(
        generation_id,
        owner_id="user-1",
        status=status,
        prompt="a lantern",
        width=512,
        height=512,
        steps=2,
        seed=1,
        terms_version=1,
        terms_sha256="0" * 64,
        input_key=f"inputs/{generation_id}.json",
        output_key=f"outputs/{generation_id}.out",
        created_at=at,
        updated_at=at,
    ).save()


def _png(size: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (size, size), (40, 90, 160)).save(out, format="PNG")
    return out.getvalue()


def painted(creator: str, prompt: str = "a lighthouse") -> str:
    """Submit as `creator` and put the model's output where the endpoint would."""
    from chalicelib.adapters import storage
    from chalicelib.services import submission

    request = submission.GenerationRequest(prompt, None, 512, 512, 4, 7)
    made = submission.submit(submission.admit(creator), request, None)
    settings = get_settings()
    output = _png(512)
    storage.put_bytes(settings.originals_bucket, resources.output_key(made.id), output, "image/png")
    return made.id


def scanned(image_id: str, outcome: str) -> str:
    """The output's scan, with a stand-in scanner that finds what `outcome` needs."""
    from chalicelib.adapters.image_scanner import Label
    from chalicelib.services import scan

    class StandIn:
        name = "stand-in"

        def scan(self, image: object, png: bytes) -> list[Label]:
            return [Label(name, score) for name, score in SCANNED[outcome]]

    original = scan.get_scanner  # type: ignore[attr-defined]
    scan.get_scanner = lambda name: StandIn()  # type: ignore[attr-defined,assignment]
    try:
        return scan.scan_output(get_settings().originals_bucket, resources.output_key(image_id))
    finally:
        scan.get_scanner = original  # type: ignore[attr-defined]
