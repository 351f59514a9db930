"""Uploads (issue 20): what the safeguards cost. Prints figures; asserts nothing.

1. Hash lists: importing a list of 100,000 PDQ hashes into the local emulator (the CSV read and
   checked, then 16 band items a hash in batches of 25), and one look-up against it
   (`hash_lists.find_match`: 272 Queries, 16 at once) for a listed hash, a listed hash 31 bits
   away with no band in common, and unlisted hashes; with the AWS calls and items read.
2. The upload scan per image at 1024² and 4096² (a JPEG with EXIF, as a phone writes it): verify,
   re-encode to a clean PNG, PDQ, hash look-up (against the list above) and the image scanner
   (NudeNet), step by step on one core; then `upload_scan.scan_upload` as a whole where the
   uploads' record and bucket exist.
3. Image-to-image against text-to-image on the local stack's tiny model: POST /generations to
   published, with and without `init_image` (an upload of the caller) and `strength`.

Run: `.venv/bin/python bench/uploads.py [--hashes 100000] [--parts lookup,scan,img2img]`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support import consented_user, counting_aws_calls, stack, summary, tables, wait_until

FINAL = {"published", "in_review", "rejected", "failed", "removed"}
LOOKUPS = 30


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    samples, answer = [], None
    for _ in range(runs):
        started = time.perf_counter()
        answer = fn()
        samples.append(time.perf_counter() - started)
    return samples, answer


# 1. Hash lists ----------------------------------------------------------------------------


def write_list(path: Path, count: int, rng: random.Random) -> list[int]:
    listed = [rng.getrandbits(256) for _ in range(count)]
    with path.open("w", encoding="utf-8") as out:
        out.write("pdq_hash,id,timestamp,quality,tags\n")
        for index, bits in enumerate(listed):
            out.write(f"{bits:064x},{index},1700000000,100,media_type_photo\n")
    return listed


def spread_31(bits: int) -> int:
    """31 bits flipped, two in 15 bands and one in the last: no band in common."""
    from chalicelib import hash_index

    for band in range(hash_index.BANDS):
        shift = hash_index.BITS - hash_index.BAND_BITS * (band + 1)
        for bit in range(2 if band < 15 else 1):
            bits ^= 1 << (shift + bit)
    return bits


def hash_lists_part(count: int) -> None:
    from chalicelib.services import hash_lists

    rng = random.Random(2026)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench-list.csv"
        listed = write_list(path, count, rng)
        started = time.perf_counter()
        parsed = hash_lists.parse_list(path.open(encoding="utf-8"))
        parse_s = time.perf_counter() - started
        started = time.perf_counter()
        imported = hash_lists.import_list(path, "bench", "illegal")
        import_s = time.perf_counter() - started
    print(f"hash lists: import of {imported:,} PDQ hashes into the local emulator")
    print(
        f"  read and checked: {parse_s:.1f} s ({len(parsed) / parse_s:,.0f} rows/s); "
        f"whole import (check + {imported * 16:,} band items): {import_s:.1f} s "
        f"({imported / import_s:,.0f} hashes/s)"
    )
    cases = {
        "listed hash (distance 0)": [f"{b:064x}" for b in rng.sample(listed, LOOKUPS)],
        "listed, 31 bits, no band in common": [
            f"{spread_31(b):064x}" for b in rng.sample(listed, LOOKUPS)
        ],
        "unlisted hash (no match)": [f"{rng.getrandbits(256):064x}" for _ in range(LOOKUPS)],
    }
    hash_lists.find_match(cases["unlisted hash (no match)"][0])  # warm: pool, connections
    print(f"  find_match against {imported:,} listed hashes ({LOOKUPS} look-ups each):")
    for name, hashes in cases.items():
        examined: dict[str, int] = {}
        samples, found = [], 0
        with counting_aws_calls(examined) as calls:
            for pdq in hashes:
                started = time.perf_counter()
                found += hash_lists.find_match(pdq) is not None
                samples.append(time.perf_counter() - started)
        queries = calls.get("dynamodb.Query", 0) / len(hashes)
        items = examined.get("dynamodb.Query", 0) / len(hashes)
        print(
            f"    {name:36} {summary(samples)}  matched {found}/{len(hashes)}; "
            f"{queries:.0f} Queries, {items:.1f} items read per look-up"
        )


# 2. The upload scan -----------------------------------------------------------------------


def phone_jpeg(side: int) -> bytes:
    """A photograph-like JPEG with EXIF (camera, GPS), as a phone writes it."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(side)
    field = rng.normal(0, 1, (side // 16, side // 16, 3))
    small = Image.fromarray(((field - field.min()) / np.ptp(field) * 255).astype(np.uint8))
    image = small.resize((side, side), Image.Resampling.BICUBIC)
    exif = Image.Exif()
    exif[0x010F] = "BenchCam"  # Make
    exif[0x0110] = "Model 1"  # Model
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 2.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def scan_steps(side: int, scanner: Any, runs: int) -> None:
    from chalicelib import upload_images
    from chalicelib.imaging import InvalidImage
    from chalicelib.provenance import fingerprints
    from chalicelib.services import hash_lists

    data = phone_jpeg(side)
    label = f"{side}x{side} JPEG ({len(data) / 1e6:.1f} MB)"
    try:
        upload_images.verify_upload(data, "image/jpeg")
    except InvalidImage as exc:
        refused, _ = _timed(lambda: _refused(data), runs)
        print(
            f"  {label}: refused ({exc}: the limit is "
            f"{upload_images.MAX_UPLOAD_PIXELS:,} pixels, this is {side * side:,}) "
            f"in {_ms(statistics.median(refused))}"
        )
        return
    steps: dict[str, list[float]] = {}

    def step(name: str, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        answer = fn()
        steps.setdefault(name, []).append(time.perf_counter() - started)
        return answer

    for _ in range(runs):
        image = step("verify", lambda: upload_images.verify_upload(data, "image/jpeg"))
        clean = step("re-encode", lambda image=image: upload_images.clean_png(image))
        pdq = step("PDQ", lambda clean=clean: fingerprints.compute(clean.image))
        step("hash look-up", lambda pdq=pdq: hash_lists.find_match(pdq.hex))
        if scanner is not None:
            step("scanner", lambda clean=clean: scanner.scan(clean.image, clean.png))
    medians = {name: statistics.median(samples) for name, samples in steps.items()}
    parts = "  ".join(f"{name} {_ms(value)}" for name, value in medians.items())
    print(f"  {label}: {_ms(sum(medians.values()))} in all  ({parts})")


def _refused(data: bytes) -> None:
    from chalicelib import upload_images
    from chalicelib.imaging import InvalidImage

    with contextlib.suppress(InvalidImage):
        upload_images.verify_upload(data, "image/jpeg")


def whole_scan(side: int, runs: int) -> None:
    """`scan_upload` as the S3 event runs it: a pending upload's record and object, scanned."""
    try:
        from chalicelib import resources
        from chalicelib.adapters import clock, ids, storage
        from chalicelib.adapters.aws import client
        from chalicelib.models.uploads import PENDING, Upload
        from chalicelib.services.upload_scan import scan_upload
        from chalicelib.settings import get_settings
    except ImportError as exc:
        print(f"  scan_upload as a whole: not available yet ({exc})")
        return
    settings = get_settings()
    bucket = settings.uploads_bucket
    if bucket not in {b["Name"] for b in client("s3").list_buckets().get("Buckets", [])}:
        client("s3").create_bucket(Bucket=bucket)
    data = phone_jpeg(side)
    samples, outcome = [], ""
    for _ in range(runs):
        upload_id = ids.new_id()
        key = resources.upload_key(upload_id)
        now = clock.now()
        Upload(
            upload_id,
            owner_id="bench-user",
            status=PENDING,
            rights="own",
            attested_at=now,
            content_type="image/jpeg",
            created_at=now,
            expires_at=now,
            incoming_key=key,
        ).save()
        storage.put_bytes(bucket, key, data, "image/jpeg")
        started = time.perf_counter()
        outcome = scan_upload(bucket, key)
        samples.append(time.perf_counter() - started)
    print(f"  scan_upload as a whole, {side}x{side}: {summary(samples)}  (outcome {outcome})")


def scan_part(runs: int) -> None:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as a scan Lambda has
    try:
        from chalicelib.adapters.image_scanner import NudeNetScanner

        started = time.perf_counter()
        scanner: Any = NudeNetScanner()
        print(
            f"upload scan per image, one core (median of {runs}; NudeNet loaded once in "
            f"{_ms(time.perf_counter() - started)})"
        )
    except Exception as exc:
        scanner = None
        print(f"upload scan per image, one core (median of {runs}; no NudeNet here: {exc})")
    for side in (1024, 2048, 4096):
        scan_steps(side, scanner, runs)
    for side in (1024, 2048):
        try:
            whole_scan(side, runs)
        except Exception as exc:
            print(f"  scan_upload as a whole: failed here ({type(exc).__name__}: {exc})")


# 3. Image-to-image against text-to-image ---------------------------------------------------


def _published_seconds(api: Any, body: dict[str, Any]) -> tuple[float, str]:
    started = time.perf_counter()
    answer = api.post("/generations", json=body)
    if answer.status_code != 202:
        return float("nan"), f"{answer.status_code} {answer.text[:200]}"
    generation_id = answer.json()["id"]
    final: dict[str, str] = {}

    def done() -> bool:
        final["status"] = api.get(f"/generations/{generation_id}").json()["status"]
        return final["status"] in FINAL

    wait_until(done, timeout=600, every=0.1)
    return time.perf_counter() - started, final["status"]


def _ready_upload(api: Any, png: bytes) -> str | None:
    """An upload of `api`'s user, through the presigned POST, once the scan made it ready."""
    import requests

    started = time.perf_counter()
    created = api.post("/uploads", json={"rights": "own", "attest": True})
    if created.status_code != 201:
        print(f"  uploads not available here: POST /uploads {created.status_code}")
        return None
    body = created.json()
    sent = requests.post(
        body["url"],
        data=body["fields"],
        files={"file": ("start.png", png, "image/png")},
        timeout=60,
    )
    if sent.status_code >= 300:
        print(f"  the presigned POST answered {sent.status_code}")
        return None
    status: dict[str, str] = {}

    def scanned() -> bool:
        status.update(api.get(f"/uploads/{body['upload_id']}").json())
        return status.get("status") in ("ready", "rejected")

    wait_until(scanned, timeout=300, every=0.2)
    if status["status"] != "ready":
        print(f"  the upload was {status}")
        return None
    print(
        f"  upload of a {len(png) / 1e3:.0f} kB PNG, POST /uploads -> ready (presigned POST, "
        f"event, scan): {time.perf_counter() - started:.2f} s"
    )
    return str(body["upload_id"])


def img2img_part(runs: int) -> None:
    import numpy as np
    from PIL import Image

    with stack() as state:
        api = consented_user(state)
        prompt = {"steps": 4, "width": 512, "height": 512, "seed": 7}
        _published_seconds(api, {"prompt": "warm-up", **prompt})
        text = [
            _published_seconds(api, {"prompt": f"a harbour at dawn {i}", **prompt})
            for i in range(runs)
        ]
        print("image-to-image against text-to-image, local stack, tiny model, 512x512, 4 steps")
        print(f"  text-to-image  POST -> published: {summary([s for s, _ in text])}")
        noise = np.random.default_rng(1).random((64, 64, 3)) * 255
        start = Image.fromarray(noise.astype(np.uint8)).resize((512, 512))
        out = io.BytesIO()
        start.save(out, "PNG")
        upload_id = _ready_upload(api, out.getvalue())
        if upload_id is None:
            print("  image-to-image: not measured (no ready upload on this stack)")
            return
        for strength in (0.5, 1.0):
            samples = []
            for i in range(runs):
                seconds, status = _published_seconds(
                    api,
                    {
                        "prompt": f"a harbour at dawn {i}",
                        "init_image": upload_id,
                        "strength": strength,
                        **prompt,
                    },
                )
                if seconds != seconds:  # NaN: refused
                    print(f"  image-to-image not available here: {status}")
                    return
                samples.append(seconds)
            print(f"  image-to-image strength {strength}: {summary(samples)}  (last: {status})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--parts", default="lookup,scan,img2img")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if parts & {"lookup", "scan"}:
        with tables():
            hash_lists_part(args.hashes)  # the scan's look-up is against this list
            if "scan" in parts:
                scan_part(args.runs)
    if "img2img" in parts:
        img2img_part(args.runs)


if __name__ == "__main__":
    main()
