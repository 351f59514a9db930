"""The model manifest: what the packager writes and the container and publisher check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.inference import manifest
from functions.inference.serve import BadRequest, parse


def model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "unet").mkdir(parents=True)
    (folder / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    (folder / "unet" / "weights.bin").write_bytes(b"\x00\x01" * 100)
    (folder / ".cache").mkdir()
    (folder / ".cache" / "lock").write_text("hub download leftovers")
    return folder


def describe(folder: Path, **limits: int) -> manifest.Manifest:
    return manifest.describe(
        folder, "tiny", "StableDiffusionPipeline", 4, manifest.Limits(**limits)
    )


def test_the_manifest_lists_every_file_with_size_and_sha256_but_not_hidden_ones(
    tmp_path: Path,
) -> None:
    found = describe(model_folder(tmp_path))
    assert sorted(found.files) == ["model_index.json", "unet/weights.bin"]
    assert found.files["unet/weights.bin"]["size"] == 200
    assert len(found.files["unet/weights.bin"]["sha256"]) == 64
    assert found.version == manifest.UNPUBLISHED


def test_a_manifest_survives_its_own_json(tmp_path: Path) -> None:
    found = describe(model_folder(tmp_path), max_size=256)
    assert manifest.Manifest.from_json(found.to_json()) == found


def test_an_untouched_folder_has_no_problems(tmp_path: Path) -> None:
    folder = model_folder(tmp_path)
    assert manifest.problems(folder, describe(folder)) == []


def test_an_altered_missing_or_extra_file_is_named(tmp_path: Path) -> None:
    folder = model_folder(tmp_path)
    found = describe(folder)
    (folder / "unet" / "weights.bin").write_bytes(b"\x00\x02" * 100)  # same size, other bytes
    (folder / "model_index.json").unlink()
    (folder / "extra.txt").write_text("smuggled")
    problems = manifest.problems(folder, found)
    assert "unet/weights.bin: sha256 differs from the manifest" in problems
    assert "model_index.json: listed in the manifest but missing" in problems
    assert "extra.txt: not listed in the manifest" in problems
    # Without hashing (a container's start) only names and sizes are compared.
    assert not any("sha256" in p for p in manifest.problems(folder, found, hashes=False))


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda d: d.pop("files"), "malformed"),
        (lambda d: d.update(format=2), "format 2"),
        (lambda d: d.update(default_steps=0), "default_steps"),
        (lambda d: d["limits"].update(min_size=512, max_size=256), "min_size"),
    ],
)
def test_a_malformed_manifest_is_refused_with_the_reason(tmp_path: Path, change, words) -> None:
    data = json.loads(describe(model_folder(tmp_path)).to_json())
    change(data)
    with pytest.raises(manifest.ManifestError, match=words):
        manifest.Manifest.from_json(json.dumps(data))


def test_requests_outside_the_limits_are_bad_requests() -> None:
    limits = manifest.Limits(min_size=128, max_size=256, max_steps=8)
    ok = parse(json.dumps({"prompt": "a boat", "width": 256, "height": 128}).encode(), limits, 4)
    assert (ok.width, ok.height, ok.steps) == (256, 128, 4)
    assert parse(b'{"prompt": "a boat"}', limits, 4).width == 256  # the default fits the limits
    for body, words in [
        ({"prompt": "x", "width": 512}, "width must be from 128 to 256"),
        ({"prompt": "x", "height": 64}, "height must be from 128 to 256"),
        ({"prompt": "x", "steps": 9}, "steps must be from 1 to 8"),
    ]:
        with pytest.raises(BadRequest, match=words):
            parse(json.dumps(body).encode(), limits, 4)
