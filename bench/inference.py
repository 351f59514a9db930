"""The model container's speed, by batch size: images/s at batch 1, 2, 4 and 8 with the offline
tiny pipeline on CPU (one `paint_batch` call, the call the container's batcher makes), and the
speedup at 4 over 1 (goal ≥ 1.8x); where a GPU is lent, images/s of a full-size
Stable-Diffusion-1.5-architecture UNet built from config (random weights cost the same FLOPs) at
512x512, 25 steps, fp16 with SDPA, at the same batch sizes. Prints figures, asserts none.

The CPU figures use one thread (`--threads` to change): on a machine shared with other work, two
OpenMP threads can stall at every small operation's barrier whenever another process holds a
core, which slows batch 1 (many small operations) far more than batch 8 and would flatter batching.
Each figure is the best of a few runs, the one least disturbed by others.
Run: `.venv/bin/python bench/inference.py [--threads N] [--size 64 256] [--steps 25]`."""

from __future__ import annotations

import argparse
import time

BATCHES = (1, 2, 4, 8)
RUNS = 2
GOAL = 1.8
PROMPTS = ("a harbour at dawn", "a small red house", "lighthouse in fog", "a cat on a mat")


def cpu_figures(threads: int, sizes: list[int], steps: int) -> None:
    import torch

    from functions.inference import pipeline

    torch.set_num_threads(threads)
    started = time.perf_counter()
    pipe, info = pipeline.load(None)
    print(f"inference container, offline tiny pipeline, CPU, {threads} thread(s)")
    print(f"  model build/load: {time.perf_counter() - started:.2f} s")
    for size in sizes:
        rates = {}
        for batch in BATCHES:
            requests = [
                pipeline.Request(PROMPTS[n % len(PROMPTS)], None, size, size, steps, n, 7.5)
                for n in range(batch)
            ]
            pipeline.paint_batch(pipe, info, requests)  # warm: first-call allocations
            best = float("inf")
            for _ in range(RUNS):
                started = time.perf_counter()
                pipeline.paint_batch(pipe, info, requests)
                best = min(best, time.perf_counter() - started)
            rates[batch] = batch / best
        figures = ", ".join(f"batch {b}: {rates[b]:.2f}" for b in BATCHES)
        speedup = rates[4] / rates[1]
        verdict = "meets" if speedup >= GOAL else "misses"
        print(f"  {size}x{size}, {steps} steps, images/s: {figures}")
        print(f"    speedup at batch 4 over 1: {speedup:.2f}x ({verdict} the {GOAL}x goal)")


def gpu_figures() -> None:
    import torch

    if not torch.cuda.is_available():
        print(
            "GPU images/s (SD-1.5 UNet, 512x512, 25 steps, fp16 + SDPA): no GPU here; run this"
            " file on a machine with CUDA for the figure"
        )
        return
    from diffusers import UNet2DConditionModel

    # Stable Diffusion 1.5's UNet configuration (diffusers' defaults are that architecture).
    unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768).to("cuda", torch.float16)
    unet.eval()
    print(
        f"GPU {torch.cuda.get_device_name()}, SD-1.5 UNet only, 512x512, 25 steps with "
        "classifier-free guidance, fp16 + SDPA"
    )
    rates = {}
    for batch in BATCHES:
        # Classifier-free guidance: two UNet rows per image.
        latents = torch.randn(2 * batch, 4, 64, 64, device="cuda", dtype=torch.float16)
        text = torch.randn(2 * batch, 77, 768, device="cuda", dtype=torch.float16)
        with torch.inference_mode():
            for _ in range(3):
                unet(latents, 500, encoder_hidden_states=text)
            torch.cuda.synchronize()
            rounds = 4
            started = time.perf_counter()
            for _ in range(rounds * 25):
                unet(latents, 500, encoder_hidden_states=text)
            torch.cuda.synchronize()
            rates[batch] = rounds * batch / (time.perf_counter() - started)
    print("  images/s: " + ", ".join(f"batch {b}: {rates[b]:.2f}" for b in BATCHES))
    print(f"  speedup at batch 4 over 1: {rates[4] / rates[1]:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for PyTorch")
    # A small image, where the per-call work that batching shares weighs most, and a larger one.
    parser.add_argument("--size", type=int, nargs="+", default=[64, 256], help="image sides")
    parser.add_argument("--steps", type=int, default=25, help="denoising steps")
    args = parser.parse_args()
    cpu_figures(args.threads, args.size, args.steps)
    gpu_figures()
