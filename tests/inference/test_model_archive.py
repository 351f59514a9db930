"""Packaging round trip: the archive the container loads paints what the folder paints."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image

from functions.inference import manifest, pipeline
from objektify.rollout import archive
from tests.inference.test_model_server import invoke, start_server, stop


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> archive.Archive:
    out = tmp_path_factory.mktemp("archive") / "model.tar.gz"
    return archive.package(None, out, limits=manifest.Limits(max_size=256))


@pytest.fixture(scope="module")
def served(packaged: archive.Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The container on the unpacked archive, as SageMaker runs it from /opt/ml/model."""
    model_dir = tmp_path_factory.mktemp("opt-ml-model")
    with tarfile.open(packaged.path) as tar:
        tar.extractall(model_dir, filter="data")
    process, url = start_server(
        "--model-dir", str(model_dir), env={"OBJEKTIFY_MODEL_VERSION": "7.1"}
    )
    yield url
    stop(process)


def test_the_archive_has_the_sagemaker_layout_and_a_manifest(packaged: archive.Archive) -> None:
    with tarfile.open(packaged.path) as tar:
        names = tar.getnames()
        listed = json.loads(tar.extractfile(manifest.MANIFEST).read())  # type: ignore[union-attr]
    assert "model_index.json" in names and "unet/config.json" in names  # at the root
    assert set(names) == set(listed["files"]) | {manifest.MANIFEST}
    assert listed["name"] == "objektify-tiny" and listed["version"] == "unpublished"
    assert listed["pipeline_class"] == "StableDiffusionPipeline"
    assert listed["limits"]["max_size"] == 256


def test_packaging_the_same_model_twice_gives_the_same_bytes(
    packaged: archive.Archive, tmp_path: Path
) -> None:
    again = archive.package(None, tmp_path / "again.tar.gz", limits=manifest.Limits(max_size=256))
    assert again.sha256 == packaged.sha256


def test_the_container_paints_the_same_bytes_as_the_folder_loaded_directly(
    served: str, tmp_path: Path
) -> None:
    folder = tmp_path / "folder"
    pipeline.build_offline_pipeline().save_pretrained(folder)
    pipe, _ = pipeline.load(folder)
    direct = pipeline.paint(
        pipe,
        pipeline.ModelInfo("objektify-tiny", "7.1"),
        pipeline.Request("a small red house", None, 64, 64, 2, 11, 7.5),
    )
    assert invoke(served, seed=11).content == direct


def test_the_container_reports_the_environment_version_over_the_manifest(served: str) -> None:
    ping = requests.get(f"{served}/ping", timeout=5).json()
    assert ping["model"] == {"name": "objektify-tiny", "version": "7.1"}
    assert ping["limits"]["max_size"] == 256
    png = Image.open(io.BytesIO(invoke(served).content))
    assert json.loads(png.info[pipeline.PROVENANCE_CHUNK])["version"] == "7.1"


def test_the_container_refuses_sizes_outside_the_manifest_limits(served: str) -> None:
    answer = invoke(served, width=512, height=512)
    assert answer.status_code == 400
    assert "width must be from 64 to 256" in answer.json()["error"]


def test_a_checked_archive_is_sound_and_a_tampered_one_is_refused(
    packaged: archive.Archive, tmp_path: Path
) -> None:
    assert archive.check(packaged.path).sha256 == packaged.sha256
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(packaged.path) as src, tarfile.open(tampered, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "scheduler/scheduler_config.json":
                data = data.replace(b"scaled_linear", b"linear\x20\x20\x20\x20\x20\x20\x20")
            dst.addfile(member, io.BytesIO(data))
    with pytest.raises(archive.ArchiveError, match="sha256 differs"):
        archive.check(tampered)


def test_an_archive_with_a_link_is_refused(tmp_path: Path) -> None:
    linked = tmp_path / "linked.tar.gz"
    with tarfile.open(linked, "w:gz") as tar:
        link = tarfile.TarInfo("model_index.json")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(archive.ArchiveError, match="only files and folders"):
        archive.check(linked)


def test_a_folder_that_is_not_a_pipeline_is_not_packaged(tmp_path: Path) -> None:
    (tmp_path / "model_index.json").write_text("{}")
    with pytest.raises(archive.ArchiveError, match="does not load as a diffusers pipeline"):
        archive.package(tmp_path, tmp_path / "out.tar.gz")
    (tmp_path / "empty").mkdir()
    with pytest.raises(archive.ArchiveError, match=r"no model_index\.json"):
        archive.package(tmp_path / "empty", tmp_path / "out.tar.gz")
    with pytest.raises(archive.ArchiveError, match="is not a folder"):
        archive.package(tmp_path / "missing", tmp_path / "out.tar.gz")
