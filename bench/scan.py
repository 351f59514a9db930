"""The scan's per-image work on one core: verify + derivatives + NudeNet, for 512² and 1024²
model outputs (from the offline pipeline), model load timed apart; and the same work done
naively (no reducing gap, full-size detector input, maximum compression effort) as a ratio.
Prints figures; asserts nothing."""

from __future__ import annotations

import io
import os
import statistics
import time

os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as a scan Lambda has
os.environ["OMP_NUM_THREADS"] = "1"

RUNS = 7


def model_outputs() -> dict[int, bytes]:
    from functions.inference import pipeline

    pipe, info = pipeline.load(None)
    return {
        side: pipeline.paint(
            pipe, info, pipeline.Request("a harbour at dawn", None, side, side, 2, 1, 7.5)
        )
        for side in (512, 1024)
    }


def best(data: bytes, scanner: object, side: int) -> None:
    from chalicelib import imaging

    verified = imaging.verify(data, (side, side))
    scanner.scan(verified.image, b"")  # type: ignore[attr-defined]
    imaging.derivatives(verified, "BENCH")


def naive(data: bytes, detector: object, side: int) -> None:
    import numpy as np
    from PIL import Image

    Image.open(io.BytesIO(data)).verify()
    image = Image.open(io.BytesIO(data)).convert("RGB")
    detector.detect(np.asarray(image.convert("RGBA")))  # type: ignore[attr-defined]
    thumb = image.copy()
    thumb.thumbnail((256, 256), Image.Resampling.LANCZOS)
    thumb.save(io.BytesIO(), "WEBP", quality=80, method=6)
    web = image.copy()
    web.thumbnail((1024, 1024), Image.Resampling.LANCZOS)
    web.save(io.BytesIO(), "WEBP", quality=85, method=6)
    image.save(io.BytesIO(), "PNG", optimize=True)


def timed(fn: object, *args: object) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn(*args)  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    outputs = model_outputs()
    from chalicelib.adapters.image_scanner import NudeNetScanner

    started = time.perf_counter()
    scanner = NudeNetScanner()
    load_ms = (time.perf_counter() - started) * 1000
    print("scan work per image, one core (median of", RUNS, "runs)")
    print(f"  NudeNet model load (once per process): {load_ms:.0f} ms")
    for side, data in outputs.items():
        fast = timed(best, data, scanner, side)
        slow = timed(naive, data, scanner._detector, side)
        print(
            f"  {side}x{side}: verify + derivatives + NudeNet {fast:6.0f} ms   naive {slow:6.0f} ms"
            f"   naive/best {slow / fast:4.1f}x" + ("   (goal <= 250 ms)" if side == 1024 else "")
        )


if __name__ == "__main__":
    main()
