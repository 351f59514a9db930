"""Batch invariance: a request paints the same bytes alone or inside a batch of others.

A pipeline call over several prompts computes each image from its own generator, but some
kernels pick a different algorithm, or split their sums differently, by how many rows they are
given, and the last bits of a float then differ; a few denoising steps later so do pixels. Two
places do this in a Stable Diffusion pipeline (found by comparing every operation of a batch of
four with the same request alone, on CPU):

- a linear layer over a 2-D input (the timestep embedding and each ResNet block's projection of
  it): BLAS takes another path for 2 rows than for 8. Computed one row at a time, it sees the
  same single row either way. These layers are tiny (one row per image per step).
- the VAE decoder (its 1x1 convolution and its group norms split work by batch size): decoded
  one image at a time, as diffusers' `enable_slicing` does.

Everything else (the UNet's convolutions, attention, the text encoder over 77-token rows) is
already batch-invariant there. Other hardware may differ: `tests/inference/test_batching.py`
is the check to run on it.
"""

from __future__ import annotations

from typing import Any


def make_batch_invariant(pipe: Any) -> None:
    """Change `pipe` in place so that each image of a batched call equals its call alone."""
    import torch

    class RowByRowLinear(torch.nn.Linear):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.dim() != 2 or x.shape[0] == 1:
                return super().forward(x)
            rows = [x[i : i + 1] for i in range(x.shape[0])]
            return torch.cat([super(RowByRowLinear, self).forward(row) for row in rows])

    for part in ("unet", "text_encoder", "vae"):
        model = getattr(pipe, part, None)
        if model is None:
            continue
        for module in model.modules():
            if type(module) is torch.nn.Linear:  # keeps the weights, changes the forward
                module.__class__ = RowByRowLinear
    vae = getattr(pipe, "vae", None)
    if vae is not None and hasattr(vae, "enable_slicing"):
        vae.enable_slicing()
