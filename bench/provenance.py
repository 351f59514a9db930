"""How well "was this made here?" holds up, on a local stack of its own.

Generates images through the API, downloads each published full-size file, changes it the way
the web changes pictures (metadata stripped, JPEG quality 70, resized to 50 %, cropped 10 %,
WebP, all of these at once) and asks `POST /provenance/check` about every copy; then asks about
pictures that were not made here (gradients, shapes, text, noise). Prints the detection rate per
transform and evidence, the false-positive rate, the check's latency, and what signing the
Content Credentials adds to publishing one image at 1024². Prints figures; asserts nothing.

Run: `.venv/bin/python bench/provenance.py [--images 50] [--unrelated 200]`.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import requests
from PIL import Image, ImageDraw, ImageFont
from support import consented_user, percentile, stack, wait_until

from local.config import StackState, app_env
from tests.support.client import anonymous

MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
PROMPTS = (
    "a harbour at dawn",
    "a fox in the snow",
    "an old tram in the rain",
    "a bowl of lemons",
    "a lighthouse in a storm",
    "a cat asleep on books",
    "a mountain lake",
    "a city at night",
    "a field of sunflowers",
    "a robot painting a portrait",
)


def encoded(image: Image.Image, kind: str, **options: object) -> tuple[bytes, str]:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue(), MIME[kind]


def crop10(image: Image.Image) -> Image.Image:
    w, h = image.size
    dx, dy = round(w * 0.05), round(h * 0.05)  # 10 % of each side, half from each edge
    return image.crop((dx, dy, w - dx, h - dy))


def half(image: Image.Image) -> Image.Image:
    return image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)


TRANSFORMS: dict[str, Callable[[bytes], tuple[bytes, str]]] = {
    "as downloaded": lambda data: (data, "image/png"),
    "metadata stripped": lambda data: encoded(_pixels(data), "PNG"),
    "JPEG q70": lambda data: encoded(_pixels(data), "JPEG", quality=70),
    "resized 50 %": lambda data: encoded(half(_pixels(data)), "PNG"),
    "cropped 10 %": lambda data: encoded(crop10(_pixels(data)), "PNG"),
    "WebP q80": lambda data: encoded(_pixels(data), "WEBP", quality=80),
    "stripped, 50 %, JPEG q70": lambda data: encoded(half(_pixels(data)), "JPEG", quality=70),
    "cropped 10 %, 50 %, JPEG q70": lambda data: encoded(
        half(crop10(_pixels(data))), "JPEG", quality=70
    ),
}


def _pixels(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def unrelated(count: int) -> list[tuple[bytes, str]]:
    """Pictures that were never made here: gradients, shapes, text renders and noise."""
    rng = np.random.default_rng(2026)
    made: list[tuple[bytes, str]] = []
    font = ImageFont.load_default(size=28)
    for index in range(count):
        side = int(rng.choice([256, 384, 512, 768]))
        kind = index % 4
        if kind == 0:  # gradients, like skies and studio backdrops
            ramp = np.linspace(0, 1, side)
            a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
            angle = rng.uniform(0, 1)
            mix = np.clip(angle * ramp[None, :] + (1 - angle) * ramp[:, None], 0, 1)
            rgb = a[None, None, :] * (1 - mix[..., None]) + b[None, None, :] * mix[..., None]
            image = Image.fromarray(rgb.astype(np.uint8))
        elif kind == 1:  # shapes
            image = Image.new("RGB", (side, side), tuple(int(c) for c in rng.integers(0, 256, 3)))
            draw = ImageDraw.Draw(image)
            for _ in range(int(rng.integers(3, 12))):
                x0, y0 = (int(v) for v in rng.integers(0, side, 2))
                x1, y1 = (
                    x0 + int(rng.integers(10, side // 2)),
                    y0 + int(rng.integers(10, side // 2)),
                )
                fill = tuple(int(c) for c in rng.integers(0, 256, 3))
                (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill)
        elif kind == 2:  # text renders, like screenshots of documents
            image = Image.new("RGB", (side, side), "white")
            draw = ImageDraw.Draw(image)
            for line in range(side // 36):
                words = " ".join(rng.choice(PROMPTS[index % len(PROMPTS)].split(), 4))
                draw.text((8, 4 + line * 36), words, fill="black", font=font)
        else:  # photograph-like noise: smoothed random fields
            field = rng.normal(0, 1, (side // 8, side // 8, 3))
            small = Image.fromarray(((field - field.min()) / np.ptp(field) * 255).astype(np.uint8))
            image = small.resize((side, side), Image.Resampling.BICUBIC)
            noise = rng.normal(0, 12, (side, side, 3))
            image = Image.fromarray(np.clip(np.asarray(image) + noise, 0, 255).astype(np.uint8))
        made.append(
            encoded(image, "PNG" if index % 2 else "JPEG", **({} if index % 2 else {"quality": 90}))
        )
    return made


def generate(state: StackState, count: int) -> list[tuple[str, bytes]]:
    """`count` published images as their full-size downloads, made through the API."""
    creator = consented_user(state)
    ids = []
    for index in range(count):
        body = {
            "prompt": f"{PROMPTS[index % len(PROMPTS)]}, study {index}",
            "steps": 2,
            "seed": 1000 + index,
        }
        answer = creator.post("/generations", json=body)
        answer.raise_for_status()
        ids.append(answer.json()["id"])

    def all_published() -> bool:
        states = [creator.get(f"/generations/{i}").json()["status"] for i in ids]
        failed = [s for s in states if s not in ("queued", "scanning", "published")]
        if failed:
            raise RuntimeError(f"generations ended {failed}")
        return all(s == "published" for s in states)

    wait_until(all_published, timeout=60 * 30, every=2)
    public = anonymous(state)
    downloads = []
    for image_id in ids:
        link = public.get(f"/gallery/{image_id}/download", allow_redirects=False)
        downloads.append((image_id, requests.get(link.headers["Location"], timeout=60).content))
    return downloads


def check(state: StackState, data: bytes, mime: str) -> tuple[dict[str, object], float]:
    started = time.perf_counter()
    answer = requests.post(
        f"{state.api_url}/provenance/check", data=data, headers={"Content-Type": mime}, timeout=60
    )
    elapsed = time.perf_counter() - started
    answer.raise_for_status()
    return answer.json(), elapsed


def detection(state: StackState, downloads: list[tuple[str, bytes]]) -> list[float]:
    latencies: list[float] = []
    print(f"\ndetection over {len(downloads)} generated images (right image id named):")
    print(f"  {'transform':28} {'found':>7} {'c2pa':>6} {'watermark':>10} {'fingerprint':>12}")
    for name, transform in TRANSFORMS.items():
        found, by = 0, {"c2pa": 0, "watermark": 0, "fingerprint": 0}
        for image_id, data in downloads:
            body, mime = transform(data)
            answer, elapsed = check(state, body, mime)
            latencies.append(elapsed)
            if answer.get("made_here") and answer.get("image_id") == image_id:
                found += 1
                for evidence in answer.get("evidence", []):  # type: ignore[attr-defined]
                    by[evidence] = by.get(evidence, 0) + 1
        n = len(downloads)
        print(
            f"  {name:28} {found / n:7.0%} {by['c2pa'] / n:6.0%} "
            f"{by['watermark'] / n:10.0%} {by['fingerprint'] / n:12.0%}"
        )
    return latencies


def false_positives(state: StackState, count: int) -> list[float]:
    pictures = unrelated(count)
    latencies, claimed = [], 0
    for data, mime in pictures:
        answer, elapsed = check(state, data, mime)
        latencies.append(elapsed)
        claimed += bool(answer.get("made_here"))
    print(
        f"\nfalse positives: {claimed} of {len(pictures)} pictures not made here "
        f"({claimed / len(pictures):.1%}; goal 0)"
    )
    return latencies


def signing_cost(runs: int = 9) -> None:
    """What signing adds to the served copies of one 1024² image (in this process, with the
    stack's KMS and certificate chain): derivatives alone against derivatives and signatures."""
    from chalicelib import imaging
    from chalicelib.provenance import credentials
    from functions.inference import pipeline

    pipe, info = pipeline.load(None)
    data = pipeline.paint(
        pipe, info, pipeline.Request("a harbour at dawn", None, 1024, 1024, 2, 1, 7.5)
    )
    verified = imaging.verify(data, (1024, 1024))
    plain, signed = [], []
    for _ in range(runs):
        started = time.perf_counter()
        made = imaging.derivatives(verified, "BENCH")
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        made = imaging.derivatives(verified, "BENCH")
        credentials.sign(made.web_webp, "image/webp", "BENCH", info.name, info.version)
        credentials.sign(made.full_png, "image/png", "BENCH", info.name, info.version)
        signed.append(time.perf_counter() - started)
    added = (statistics.median(signed) - statistics.median(plain)) * 1000
    print(
        f"\nsigning at 1024² (median of {runs}): the served copies take "
        f"{statistics.median(plain) * 1000:.0f} ms unsigned, "
        f"{statistics.median(signed) * 1000:.0f} ms signed: +{added:.0f} ms per "
        "published image (goal ≤ 30 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--unrelated", type=int, default=200)
    args = parser.parse_args()
    env = {
        "OBJEKTIFY_QUOTA_LIMIT": str(args.images + 10),
        "OBJEKTIFY_PROVENANCE_CHECK_LIMIT": "100000",
    }
    with stack(env) as state:
        downloads = generate(state, args.images)
        latencies = detection(state, downloads)
        latencies += false_positives(state, args.unrelated)
        print(
            f"\ncheck latency over {len(latencies)} checks: "
            f"p50 {percentile(latencies, 50) * 1000:.0f} ms, "
            f"p95 {percentile(latencies, 95) * 1000:.0f} ms"
        )
        # The stack's KMS key and certificate chain, for the signing in this process.
        os.environ.update(app_env(state, Path(state.extra["dir"])))
        signing_cost()


if __name__ == "__main__":
    main()
