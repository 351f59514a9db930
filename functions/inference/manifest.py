"""The model manifest: `objektify-model.json` at the root of a packaged model folder.

It names the model, lists every file with its size and sha256, the pipeline class, the default
number of steps and the request limits the model accepts. The packager writes it
(`objektify model package`), the publisher checks it, and the container reads it at start. The
version stays "unpublished" in the archive: it is chosen at publish and reaches the container
through the SageMaker Model's environment (`OBJEKTIFY_MODEL_VERSION`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "objektify-model.json"
FORMAT = 1
UNPUBLISHED = "unpublished"


class ManifestError(ValueError):
    """The manifest is missing, malformed, or does not match the files beside it."""


@dataclass(frozen=True)
class Limits:
    """What a request may ask of this model; the container answers 400 outside them."""

    min_size: int = 64
    max_size: int = 2048
    max_steps: int = 100

    def check(self) -> None:
        if not 8 <= self.min_size <= self.max_size:
            raise ManifestError("limits: min_size must be at least 8 and at most max_size")
        if self.max_steps < 1:
            raise ManifestError("limits: max_steps must be at least 1")


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    pipeline_class: str
    default_steps: int
    limits: Limits
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # path → {size, sha256}
    format: int = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            data = json.loads(text)
            limits = Limits(**data.get("limits", {}))
            manifest = cls(
                name=str(data["name"]),
                version=str(data["version"]),
                pipeline_class=str(data["pipeline_class"]),
                default_steps=int(data["default_steps"]),
                limits=limits,
                files={str(k): dict(v) for k, v in data["files"].items()},
                format=int(data.get("format", FORMAT)),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ManifestError(f"{MANIFEST} is malformed: {exc}") from exc
        if manifest.format != FORMAT:
            raise ManifestError(f"{MANIFEST} has format {manifest.format}; this reads {FORMAT}")
        limits.check()
        if not 1 <= manifest.default_steps <= limits.max_steps:
            raise ManifestError("default_steps must be from 1 to limits.max_steps")
        return manifest


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_files(directory: Path) -> list[str]:
    """Every regular file under `directory` except the manifest and hidden paths (a hub
    download's `.cache/`, `.gitattributes`), as sorted POSIX paths."""
    found = []
    for path in directory.rglob("*"):
        rel = path.relative_to(directory)
        hidden = any(part.startswith(".") for part in rel.parts)
        if path.is_file() and rel.as_posix() != MANIFEST and not hidden:
            found.append(rel.as_posix())
    return sorted(found)


def describe(
    directory: Path, name: str, pipeline_class: str, default_steps: int, limits: Limits
) -> Manifest:
    """The manifest of a model folder as it is now (hashes every file)."""
    files = {
        rel: {"size": (directory / rel).stat().st_size, "sha256": sha256_of(directory / rel)}
        for rel in model_files(directory)
    }
    manifest = Manifest(name, UNPUBLISHED, pipeline_class, default_steps, limits, files)
    Manifest.from_json(manifest.to_json())  # the same checks a reader makes
    return manifest


def read(directory: Path) -> Manifest | None:
    """The folder's manifest, or None when it has none (a plain diffusers folder)."""
    path = directory / MANIFEST
    return Manifest.from_json(path.read_text()) if path.is_file() else None


def problems(directory: Path, manifest: Manifest, hashes: bool = True) -> list[str]:
    """How the folder differs from its manifest: missing, extra, resized or altered files.
    Without `hashes` only names and sizes are compared (cheap enough for a container start)."""
    found: list[str] = []
    present = set(model_files(directory))
    for rel, facts in sorted(manifest.files.items()):
        path = directory / rel
        if rel not in present:
            found.append(f"{rel}: listed in the manifest but missing")
        elif path.stat().st_size != int(facts["size"]):
            found.append(f"{rel}: size differs from the manifest")
        elif hashes and sha256_of(path) != facts["sha256"]:
            found.append(f"{rel}: sha256 differs from the manifest")
    found += [f"{rel}: not listed in the manifest" for rel in sorted(present - set(manifest.files))]
    return found
