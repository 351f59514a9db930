"""Model packaging and rollout figures: the tiny pipeline's archive size, packaging and load
times; on a local stack, the time from `objektify model publish` to the first generation painted
by the new model; and, where a GPU is lent, the load time of an SD-1.5-size pipeline. Prints."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from support import ROOT, consented_user, stack, wait_until


def archive_figures(folder: Path) -> Path:
    from functions.inference import pipeline
    from objektify.rollout import archive

    started = time.perf_counter()
    made = archive.package(None, folder / "tiny.tar.gz")
    package_s = time.perf_counter() - started
    started = time.perf_counter()
    archive.check(made.path)
    check_s = time.perf_counter() - started
    unpacked = folder / "opt-ml-model"
    started = time.perf_counter()
    with tarfile.open(made.path) as tar:
        tar.extractall(unpacked, filter="data")
    unpack_s = time.perf_counter() - started
    started = time.perf_counter()
    pipeline.load(unpacked)
    load_s = time.perf_counter() - started
    print("tiny pipeline archive (offline default model)")
    print(f"  archive: {made.size / 1e6:.2f} MB, {len(made.manifest.files)} files")
    print(f"  package (build + save + load check + tar.gz): {package_s:.2f} s (imports included)")
    print(f"  publish's local check (unpack, sha256 of every file, load): {check_s:.2f} s")
    print(f"  unpack {unpack_s:.3f} s, pipeline load from the unpacked archive {load_s:.2f} s")
    print(f"  container cold start on it (process start to /ping): {cold_start(unpacked):.2f} s")
    return made.path


def cold_start(model_dir: Path) -> float:
    import urllib.request

    from local.config import free_port

    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "functions.inference.serve",
            "--model-dir",
            str(model_dir),
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def up() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1):
                    return True
            except OSError:
                return False

        wait_until(up, timeout=120)
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=10)


def rollout_figures(path: Path) -> None:
    with stack() as state:
        api = consented_user(state)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OBJEKTIFY_"))}
        env["OBJEKTIFY_LOCAL_DIR"] = state.extra["dir"]
        for version in ("1.0", "2.0"):
            started = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "objektify.cli",
                    "model",
                    "publish",
                    str(path),
                    "--version",
                    version,
                    "--poll-seconds",
                    "1",
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode != 0:
                raise SystemExit(done.stdout + done.stderr)
            published = time.perf_counter() - started
            created = api.post("/generations", json={"prompt": "a harbour", "steps": 4}).json()

            def painted(generation_id: str = created["id"], wanted: str = version) -> bool:
                body = api.get(f"/generations/{generation_id}").json()
                return (body.get("model") or {}).get("version") == wanted

            wait_until(painted, timeout=120)
            total = time.perf_counter() - started
            print(
                f"publish {version} on the local stack: command {published:.1f} s; first "
                f"generation painted (and scanned) by {version}: {total:.1f} s after it began"
            )


def gpu_figure() -> None:
    import torch

    if not torch.cuda.is_available():
        print(
            "SD-1.5-size pipeline load time (≈1 B parameters, fp16, from an unpacked archive): "
            "needs a GPU, none here; run this file on a machine with CUDA for the figure"
        )
        return
    from diffusers import AutoencoderKL, UNet2DConditionModel

    from functions.inference import pipeline

    with tempfile.TemporaryDirectory() as tmp:
        # Stable Diffusion 1.5's UNet and VAE architectures (diffusers' defaults), random weights.
        UNet2DConditionModel(sample_size=64, cross_attention_dim=768).save_pretrained(f"{tmp}/unet")
        AutoencoderKL(
            block_out_channels=(128, 256, 512, 512),
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            latent_channels=4,
            layers_per_block=2,
        ).save_pretrained(f"{tmp}/vae")
        device, dtype = pipeline.device_and_dtype()
        torch.cuda.synchronize()
        started = time.perf_counter()
        UNet2DConditionModel.from_pretrained(f"{tmp}/unet").to(device, dtype)
        AutoencoderKL.from_pretrained(f"{tmp}/vae").to(device, dtype)
        torch.cuda.synchronize()
        print(
            f"GPU {torch.cuda.get_device_name()}: SD-1.5-size UNet + VAE load to GPU (fp16): "
            f"{time.perf_counter() - started:.2f} s"
        )


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        archive_path = archive_figures(Path(tmp))
        rollout_figures(archive_path)
    gpu_figure()
