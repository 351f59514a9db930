"""Image scanners behind one interface: NudeNet (ONNX, offline; an optional extra because its
wheel ships an AGPL-3.0 licence file) and Amazon Rekognition DetectModerationLabels (AWS)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # Pillow is loaded by whoever decodes the image (the scan function only)
    from PIL import Image

NUDENET_INPUT_SIDE = 320


@dataclass(frozen=True)
class Label:
    name: str
    score: float  # 0..1


class ImageScanner(Protocol):
    name: str

    def scan(self, image: Image.Image, png: bytes) -> list[Label]: ...


class NudeNetScanner:
    """NudeNet 3.4's 320n detector; the image is shrunk to its input size first (faster)."""

    name = "nudenet"

    def __init__(self) -> None:
        from nudenet import NudeDetector

        self._detector = NudeDetector()

    def scan(self, image: Image.Image, png: bytes) -> list[Label]:
        import numpy as np
        from PIL import Image

        small = image.copy()
        small.thumbnail((NUDENET_INPUT_SIDE, NUDENET_INPUT_SIDE), Image.Resampling.BILINEAR)
        # NudeNet converts RGBA→BGR itself.
        found = self._detector.detect(np.asarray(small.convert("RGBA")))
        best: dict[str, float] = {}
        for item in found:
            name, score = str(item["class"]), float(item["score"])
            best[name] = max(score, best.get(name, 0.0))
        return [Label(n, s) for n, s in sorted(best.items())]


class RekognitionScanner:
    """DetectModerationLabels; confidences (0..100) become scores, parents count too."""

    name = "rekognition"
    MAX_BYTES = 5 * 1024 * 1024  # the API's limit for inline image bytes

    def scan(self, image: Image.Image, png: bytes) -> list[Label]:
        from chalicelib.adapters.aws import client

        data = png if len(png) <= self.MAX_BYTES else _as_jpeg(image)
        answer: dict[str, Any] = client("rekognition").detect_moderation_labels(
            Image={"Bytes": data}, MinConfidence=40
        )
        best: dict[str, float] = {}
        for label in answer.get("ModerationLabels", []):
            score = float(label.get("Confidence", 0)) / 100
            for name in (label.get("Name"), label.get("ParentName")):
                if name:
                    best[name] = max(score, best.get(name, 0.0))
        return [Label(n, s) for n, s in sorted(best.items())]


class NoScanner:
    """For deployments that moderate by prompt and people only."""

    name = "none"

    def scan(self, image: Image.Image, png: bytes) -> list[Label]:
        return []


def _as_jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


@lru_cache(maxsize=4)
def get_scanner(kind: str) -> ImageScanner:
    """The scanner named in settings, built once per process (the model loads once)."""
    if kind == "nudenet":
        return NudeNetScanner()
    if kind == "rekognition":
        return RekognitionScanner()
    if kind == "none":
        return NoScanner()
    raise ValueError(f"unknown image scanner {kind!r}")
