"""Model archives: a diffusers folder plus its manifest, laid out as SageMaker unpacks it into
/opt/ml/model. `package` makes one; `check` proves one sound before anything is published."""

from __future__ import annotations

import gzip
import inspect
import io
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from functions.inference import manifest as manifests

if TYPE_CHECKING:
    from objektify.progress import Progress

DEFAULT_STEPS = 25
# What the service's painting call passes (functions/inference/pipeline.paint).
CALL_ARGUMENTS = ("prompt", "negative_prompt", "width", "height", "num_inference_steps")


class ArchiveError(ValueError):
    """The folder or archive cannot be served; the message says why."""


@dataclass(frozen=True)
class Archive:
    path: Path
    sha256: str
    size: int
    manifest: manifests.Manifest


def quiet() -> None:
    """A command's output is its report: no progress bars or warnings from the libraries."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    for library in (diffusers_logging, transformers_logging):
        library.set_verbosity_error()
        library.disable_progress_bar()


def pipeline_class_of(folder: Path) -> str:
    """Load `folder` as a diffusers text-to-image pipeline, as the container will, and name its
    class; refuse with the reason when it does not load or cannot paint from a prompt."""
    from functions.inference import pipeline

    if not pipeline.has_model(folder):
        raise ArchiveError(f"{folder}: no model_index.json, so not a diffusers pipeline folder")
    from diffusers import DiffusionPipeline

    quiet()
    try:
        pipe = DiffusionPipeline.from_pretrained(
            str(folder), local_files_only=True, safety_checker=None, requires_safety_checker=False
        )
    except Exception as exc:  # diffusers raises many types; the reason is what matters
        raise ArchiveError(
            f"{folder} does not load as a diffusers pipeline: {type(exc).__name__}: {exc}"
        ) from exc
    accepted = inspect.signature(pipe.__call__).parameters
    missing = [name for name in CALL_ARGUMENTS if name not in accepted]
    if missing:
        raise ArchiveError(
            f"{type(pipe).__name__} is not a text-to-image pipeline (no {', '.join(missing)})"
        )
    return type(pipe).__name__


def sha256_of(path: Path) -> str:
    return manifests.sha256_of(path)


def _member(name: str, size: int) -> tarfile.TarInfo:
    # Fixed owner, mode and time: the same folder always gives the same archive bytes.
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


class _Counted:
    """A file as tarfile reads it, each read counted on a progress meter."""

    def __init__(self, handle: BinaryIO, meter: Progress) -> None:
        self._handle, self._meter = handle, meter

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._meter.advance(len(data))
        return data


def write_archive(folder: Path, manifest: manifests.Manifest, out: Path) -> None:
    """The files at the archive's root (SageMaker unpacks it into /opt/ml/model), manifest last;
    the bytes packed so far shown as they go (objektify/progress.py)."""
    from objektify.progress import progress

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    total = sum(int(facts["size"]) for facts in manifest.files.values())
    # Weights barely compress: the fastest level keeps packaging a multi-GB model quick.
    with (
        partial.open("wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=1, mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
        progress("model package", total=total, unit="B") as meter,
    ):
        for rel in sorted(manifest.files):
            with (folder / rel).open("rb") as handle:
                counted = cast(BinaryIO, _Counted(handle, meter))
                tar.addfile(_member(rel, int(manifest.files[rel]["size"])), counted)
        text = manifest.to_json().encode()
        tar.addfile(_member(manifests.MANIFEST, len(text)), io.BytesIO(text))
    partial.replace(out)


def package(
    source: Path | None,
    out: Path,
    name: str | None = None,
    default_steps: int = DEFAULT_STEPS,
    limits: manifests.Limits | None = None,
) -> Archive:
    """Package a diffusers folder (or, without one, the offline default tiny pipeline)."""
    limits = limits or manifests.Limits()
    with tempfile.TemporaryDirectory(prefix="objektify-package-") as tmp:
        if source is None:
            from functions.inference import pipeline

            folder = Path(tmp) / "model"
            quiet()
            pipeline.build_offline_pipeline().save_pretrained(folder)
            name = name or pipeline.DEFAULT_NAME
        else:
            folder = source
            if not folder.is_dir():
                raise ArchiveError(f"{folder} is not a folder")
            try:
                earlier = manifests.read(folder)
            except manifests.ManifestError:
                earlier = None  # a stale manifest is replaced, never trusted
            name = name or (earlier.name if earlier else folder.resolve().name)
        try:
            manifest = manifests.describe(
                folder, name, pipeline_class_of(folder), default_steps, limits
            )
        except manifests.ManifestError as exc:
            raise ArchiveError(str(exc)) from exc
        write_archive(folder, manifest, out)
    return Archive(out, sha256_of(out), out.stat().st_size, manifest)


@contextmanager
def unpacked(path: Path) -> Iterator[Path]:
    """The archive unpacked into a temporary folder; refuses links, devices and paths that
    would land outside it."""
    with tempfile.TemporaryDirectory(prefix="objektify-archive-") as tmp:
        try:
            with tarfile.open(path, mode="r:*") as tar:
                for member in tar.getmembers():
                    if not (member.isfile() or member.isdir()):
                        raise ArchiveError(f"{member.name}: only files and folders may be packed")
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveError(f"{path} is not a readable tar.gz archive: {exc}") from exc
        yield Path(tmp)


def check(path: Path) -> Archive:
    """Everything the publisher proves before it changes anything in AWS: a readable archive,
    the manifest at its root, every file present with the manifest's sha256 and nothing else,
    and the pipeline loading as the class the manifest names."""
    if not path.is_file():
        raise ArchiveError(f"{path}: no such archive")
    with unpacked(path) as folder:
        try:
            manifest = manifests.read(folder)
        except manifests.ManifestError as exc:
            raise ArchiveError(str(exc)) from exc
        if manifest is None:
            raise ArchiveError(f"the archive has no {manifests.MANIFEST} at its root")
        unpacked_files = sorted(
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and p.relative_to(folder).as_posix() != manifests.MANIFEST
        )
        # problems() skips hidden paths (as packaging does); an archive may carry none at all.
        extra = [f"{rel}: not listed in the manifest" for rel in unpacked_files]
        extra = [line for line in extra if line.split(":")[0] not in manifest.files]
        wrong = list(dict.fromkeys(manifests.problems(folder, manifest) + extra))
        if wrong:
            raise ArchiveError("the archive does not match its manifest: " + "; ".join(wrong[:5]))
        loaded = pipeline_class_of(folder)
        if loaded != manifest.pipeline_class:
            raise ArchiveError(
                f"the archive loads as {loaded}, its manifest says {manifest.pipeline_class}"
            )
    return Archive(path, sha256_of(path), path.stat().st_size, manifest)
