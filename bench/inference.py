"""The model container's speed: CPU seconds per image with the offline tiny pipeline, and, where
a GPU is lent, images/s of a full-size Stable-Diffusion-1.5-architecture UNet built from config
(random weights cost the same FLOPs) at 512x512, 25 steps, fp16 with SDPA. Prints figures."""

from __future__ import annotations

import statistics
import time

RUNS = 5


def cpu_figures() -> None:
    from functions.inference import pipeline

    started = time.perf_counter()
    pipe, info = pipeline.load(None)
    load_s = time.perf_counter() - started
    samples = []
    for seed in range(RUNS):
        started = time.perf_counter()
        pipeline.paint(
            pipe, info, pipeline.Request("a harbour at dawn", None, 512, 512, 4, seed, 7.5)
        )
        samples.append(time.perf_counter() - started)
    print("inference container, offline tiny pipeline, CPU")
    print(f"  model build/load: {load_s:.2f} s")
    print(f"  512x512, 4 steps: median {statistics.median(samples):.2f} s per image")


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
    latents = torch.randn(2, 4, 64, 64, device="cuda", dtype=torch.float16)  # CFG: batch of 2
    text = torch.randn(2, 77, 768, device="cuda", dtype=torch.float16)
    with torch.inference_mode():
        for _ in range(3):
            unet(latents, 500, encoder_hidden_states=text)
        torch.cuda.synchronize()
        images = 8
        started = time.perf_counter()
        for _ in range(images * 25):
            unet(latents, 500, encoder_hidden_states=text)
        torch.cuda.synchronize()
        elapsed = time.perf_counter() - started
    print(
        f"GPU {torch.cuda.get_device_name()}: {images / elapsed:.2f} images/s "
        "(SD-1.5 UNet, 512x512, 25 steps with classifier-free guidance, fp16 + SDPA; UNet only)"
    )


if __name__ == "__main__":
    cpu_figures()
    gpu_figures()
