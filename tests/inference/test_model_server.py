"""The inference container's model server over HTTP, on the offline tiny pipeline."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from PIL import Image

from functions.inference import pipeline
from local.config import free_port

ROOT = Path(__file__).resolve().parents[2]


def start_server(
    *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "functions.inference.serve", "--port", str(port), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode()[-3000:] if process.stderr else "")
        try:
            if requests.get(f"{url}/ping", timeout=1).status_code == 200:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("model server did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    process, url = start_server()
    yield url
    stop(process)


def invoke(url: str, **body: object) -> requests.Response:
    payload = {"prompt": "a small red house", "width": 64, "height": 64, "steps": 2, "seed": 1}
    payload.update(body)
    return requests.post(
        f"{url}/invocations",
        data=json.dumps(payload),
        headers={"Content-Type": "application/json"},
        timeout=120,
    )


def test_ping_names_the_model(server: str) -> None:
    answer = requests.get(f"{server}/ping", timeout=5)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.json()["model"] == {"name": "objektify-tiny", "version": "0.0.0-random"}
    assert answer.json()["batching"] == {"window_ms": 25, "max_batch": 4}


def test_same_seed_same_bytes_other_seed_other_bytes(server: str) -> None:
    first, again, other = invoke(server, seed=42), invoke(server, seed=42), invoke(server, seed=43)
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "image/png"
    assert first.content == again.content
    assert first.content != other.content


def test_concurrent_invocations_each_get_the_image_they_get_alone(server: str) -> None:
    seeds = [21, 22, 23, 24]
    alone = [invoke(server, seed=s, prompt=f"lighthouse {s}").content for s in seeds]
    with ThreadPoolExecutor(len(seeds)) as pool:
        together = list(pool.map(lambda s: invoke(server, seed=s, prompt=f"lighthouse {s}"), seeds))
    assert [answer.status_code for answer in together] == [200] * len(seeds)
    assert [answer.content for answer in together] == alone


def test_the_png_has_the_requested_size_and_names_its_model(server: str) -> None:
    answer = invoke(server, width=128, height=64)
    image = Image.open(io.BytesIO(answer.content))
    assert image.format == "PNG" and image.size == (128, 64)
    assert json.loads(image.info[pipeline.PROVENANCE_CHUNK]) == {
        "name": "objektify-tiny",
        "version": "0.0.0-random",
    }
    assert answer.headers["X-Objektify-Model"] == "objektify-tiny/0.0.0-random"


@pytest.mark.parametrize(
    "payload, words",
    [
        (b"not json", "JSON"),
        (b"[1, 2]", "object"),
        (json.dumps({"width": 64}).encode(), "prompt"),
        (json.dumps({"prompt": "x", "width": 65}).encode(), "multiples of 8"),
        (json.dumps({"prompt": "x", "steps": 0}).encode(), "steps"),
        (json.dumps({"prompt": "x", "seed": -5}).encode(), "seed"),
        (json.dumps({"prompt": "x", "width": "64"}).encode(), "width"),
        (json.dumps({"prompt": "x", "colour": "red"}).encode(), "unknown fields: colour"),
    ],
)
def test_a_bad_payload_is_a_400_that_says_why(server: str, payload: bytes, words: str) -> None:
    answer = requests.post(f"{server}/invocations", data=payload, timeout=30)
    assert answer.status_code == 400
    assert words in answer.json()["error"]


def test_a_saved_model_folder_paints_the_same_bytes(server: str, tmp_path: Path) -> None:
    pipe = pipeline.build_offline_pipeline()
    pipe.save_pretrained(tmp_path / "tiny")
    # The SageMaker Model's environment names the model (a plain folder has no manifest).
    named = {"OBJEKTIFY_MODEL_NAME": "objektify-tiny", "OBJEKTIFY_MODEL_VERSION": "0.0.0-random"}
    process, url = start_server("--model-dir", str(tmp_path / "tiny"), env=named)
    try:
        from_folder = invoke(url, seed=9)
    finally:
        stop(process)
    assert from_folder.status_code == 200
    assert from_folder.content == invoke(server, seed=9).content


def test_a_folder_without_a_pipeline_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "functions.inference.serve", "--model-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "no diffusers pipeline" in result.stderr
