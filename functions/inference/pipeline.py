"""Loading the text-to-image pipeline and painting images with it, one request or a batch;
image-to-image from the same loaded modules (`image_to_image`).

Three sources, in order: a model folder (`--model-dir`, `SM_MODEL_DIR`, or `/opt/ml/model` when
it holds a model), else the offline default: a small Stable Diffusion pipeline built from
configs with random weights. No weights can be downloaded, so the default runs the full loading
and sampling path of a real model, and paints noise.

A packaged folder carries a manifest (`manifest.py`); the name and version the container reports
come from `OBJEKTIFY_MODEL_NAME` / `OBJEKTIFY_MODEL_VERSION` (the SageMaker Model's environment,
set at publish) over the manifest's, since the version is chosen after packaging.

A batch is one pipeline call over several requests that share the call's own arguments (size,
steps, guidance, scheduler: `batch_key`), each with its own prompt, negative prompt and seeded
generator; the loaded pipeline is made batch-invariant (`invariance.py`), so a request paints
the same bytes alone or in company. The scheduler is switched per call (`use_scheduler`), never
by reloading weights.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from functions.inference import invariance, watermark
from functions.inference import manifest as manifests

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# transformers' image processors warn about torchvision, which text-to-image never uses.
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

MANIFEST = manifests.MANIFEST
NAME_ENV = "OBJEKTIFY_MODEL_NAME"
VERSION_ENV = "OBJEKTIFY_MODEL_VERSION"
PROVENANCE_CHUNK = "objektify:model"
DEFAULT_NAME = "objektify-tiny"
DEFAULT_VERSION = "0.0.0-random"
BUILD_SEED = 20241125


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version}


@dataclass(frozen=True)
class Request:
    prompt: str
    negative_prompt: str | None
    width: int
    height: int
    steps: int
    seed: int
    guidance_scale: float
    # The image's id (its generation's), carried invisibly in its pixels; not part of the
    # batch key: each image of a batch gets its own.
    image_id: str | None = None
    scheduler: str = "euler"
    # Image-to-image: the picture to start from (image bytes Pillow reads, resized here to
    # width x height) and how far from it to go (0.05: hardly at all, 1.0: only its outline
    # of noise is kept). None: text-to-image.
    init_image: bytes | None = field(default=None, repr=False)
    strength: float | None = None

    def batch_key(self) -> tuple[int, int, int, float, str, float | None]:
        """What requests painted in one pipeline call must share: everything the call takes
        once for all its images. Image-to-image and text-to-image never share a call (the
        strength is None only for text-to-image), nor do two strengths."""
        return (
            self.width,
            self.height,
            self.steps,
            self.guidance_scale,
            self.scheduler,
            self.strength if self.init_image is not None else None,
        )


# The schedulers a request may name, by their diffusers class; each is built once per loaded
# pipeline from the pipeline's own scheduler config (`use_scheduler`), so switching between
# them changes how the noise is stepped, never the weights.
SCHEDULERS = {
    "euler": "EulerDiscreteScheduler",
    "euler_a": "EulerAncestralDiscreteScheduler",
    "dpmpp_2m": "DPMSolverMultistepScheduler",
    "ddim": "DDIMScheduler",
}


def use_scheduler(pipe: Any, name: str) -> None:
    """Set the pipeline's scheduler to `name`, made `from_config` of the scheduler it was loaded
    with (that one itself when it is of the class named). Only the painter thread calls this,
    between pipeline calls; each scheduler resets its state in `set_timesteps`."""
    import diffusers

    if name not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {name!r}")
    made = _schedulers(pipe)
    if name not in made:
        made[name] = getattr(diffusers, SCHEDULERS[name]).from_config(
            pipe._objektify_scheduler_config
        )
    pipe.scheduler = made[name]


def _schedulers(pipe: Any) -> dict[str, Any]:
    """The schedulers made for `pipe` so far, by name (first: the one it was loaded with)."""
    made: dict[str, Any] | None = getattr(pipe, "_objektify_schedulers", None)
    if made is None:
        made = {}
        loaded = pipe.scheduler
        for key, class_name in SCHEDULERS.items():
            if type(loaded).__name__ == class_name:
                made[key] = loaded
        pipe._objektify_schedulers = made
        pipe._objektify_scheduler_config = loaded.config
    return made


def device_and_dtype() -> tuple[str, Any]:
    """CUDA in half precision (SDPA attention is diffusers' default on torch 2); else CPU fp32."""
    import torch

    if torch.cuda.is_available():
        dtype = torch.bfloat16 if os.environ.get("OBJEKTIFY_DTYPE") == "bf16" else torch.float16
        return "cuda", dtype
    return "cpu", torch.float32


def _byte_level_tokenizer() -> Any:
    """A CLIP tokenizer over a byte-level vocabulary (every byte, alone or ending a word)."""
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for symbol in sorted(ByteLevel.alphabet()):
        vocab.setdefault(symbol, len(vocab))
        vocab.setdefault(symbol + "</w>", len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def build_offline_pipeline() -> Any:
    """The offline default: Stable Diffusion's architecture in miniature, random weights,
    identical in every process (seeded construction)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = _byte_level_tokenizer()
    torch.manual_seed(BUILD_SEED)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    unet = UNet2DConditionModel(
        sample_size=64,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=8,
    )
    # Four blocks: a latent 8 times smaller than the image, as in real Stable Diffusion.
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 16, 32, 32),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=512,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        num_train_timesteps=1000,
        steps_offset=1,
    )
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def has_model(directory: Path) -> bool:
    return (directory / "model_index.json").is_file()


def read_info(directory: Path | None) -> ModelInfo:
    """What the model is called: the environment's name/version over the manifest's."""
    if directory is None:
        name, version = DEFAULT_NAME, DEFAULT_VERSION
    elif (found := manifests.read(directory)) is not None:
        name, version = found.name, found.version
    else:
        name, version = directory.name or "model", "unversioned"
    return ModelInfo(os.environ.get(NAME_ENV) or name, os.environ.get(VERSION_ENV) or version)


def load(directory: Path | None) -> tuple[Any, ModelInfo]:
    """The pipeline, moved to the best device, and what it is called."""
    from diffusers import DiffusionPipeline

    device, dtype = device_and_dtype()
    if directory is None:
        pipe = build_offline_pipeline()
    else:
        found = manifests.read(directory)
        if found is not None:
            # Names and sizes only: hashing gigabytes of weights would slow every start; the
            # publisher checked the hashes before the archive reached the endpoint.
            wrong = manifests.problems(directory, found, hashes=False)
            if wrong:
                raise manifests.ManifestError("; ".join(wrong[:5]))
        pipe = DiffusionPipeline.from_pretrained(
            str(directory),
            local_files_only=True,
            safety_checker=None,
            requires_safety_checker=False,
        )
        if found is not None and type(pipe).__name__ != found.pipeline_class:
            raise manifests.ManifestError(
                f"the folder loads as {type(pipe).__name__}, the manifest says "
                f"{found.pipeline_class}"
            )
    pipe = pipe.to(device, dtype) if device == "cuda" else pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    invariance.make_batch_invariant(pipe)
    return pipe, read_info(directory)


def image_to_image(pipe: Any) -> Any:
    """The image-to-image pipeline over `pipe`'s own modules (`from_pipe`: the same UNet, VAE
    and text encoder objects, so no second copy of the weights), made once per loaded pipeline."""
    made = getattr(pipe, "_objektify_image_to_image", None)
    if made is None:
        from diffusers import AutoPipelineForImage2Image

        schedulers = _schedulers(pipe)  # before from_pipe, while pipe has its loaded one
        made = AutoPipelineForImage2Image.from_pipe(pipe)
        made.set_progress_bar_config(disable=True)
        # The same scheduler objects and config as the text-to-image pipeline: switching
        # scheduler in one call never depends on which pipeline the previous call used.
        made._objektify_schedulers = schedulers
        made._objektify_scheduler_config = pipe._objektify_scheduler_config
        pipe._objektify_image_to_image = made
    return made


def init_picture(raw: bytes, width: int, height: int) -> Any:
    """The starting picture as RGB at the requested size (stretched to it, as the output's
    size is the request's)."""
    from PIL import Image

    with Image.open(io.BytesIO(raw)) as opened:
        picture = opened.convert("RGB")
    if picture.size != (width, height):
        picture = picture.resize((width, height), Image.Resampling.LANCZOS)
    return picture


def paint(pipe: Any, info: ModelInfo, request: Request) -> bytes:
    """One image as PNG bytes: the same request on the same model gives the same bytes."""
    return paint_batch(pipe, info, [request])[0]


def paint_batch(pipe: Any, info: ModelInfo, requests: list[Request]) -> list[bytes]:
    """The PNG of each request, in order, from one pipeline call; the requests must share
    `batch_key`. Each image is the bytes `paint` gives for its request alone."""
    import torch
    from PIL import PngImagePlugin

    first = requests[0]
    if any(r.batch_key() != first.batch_key() for r in requests):
        raise ValueError("a batch takes requests of one size, step count, guidance, scheduler")
    # One generator per request: diffusers draws each image's starting noise from its own.
    generators = [torch.Generator(device="cpu").manual_seed(r.seed) for r in requests]
    arguments: dict[str, Any] = {
        "prompt": [r.prompt for r in requests],
        # No negative prompt is the empty one: diffusers encodes "" for None.
        "negative_prompt": [r.negative_prompt or "" for r in requests],
        "num_inference_steps": first.steps,
        "guidance_scale": first.guidance_scale,
        "generator": generators,
        "output_type": "pil",
    }
    if first.init_image is not None:
        caller = image_to_image(pipe)
        arguments["image"] = [
            init_picture(r.init_image or b"", first.width, first.height) for r in requests
        ]
        arguments["strength"] = first.strength if first.strength is not None else 0.75
    else:
        caller = pipe
        arguments["width"] = first.width
        arguments["height"] = first.height
    use_scheduler(caller, first.scheduler)
    with torch.inference_mode():
        images = caller(**arguments).images
    chunk = PngImagePlugin.PngInfo()
    chunk.add_text(PROVENANCE_CHUNK, json.dumps(info.as_dict(), sort_keys=True))
    painted = []
    for request, image in zip(requests, images, strict=True):
        if request.image_id is not None:
            # Marked here, before the one PNG encoding: the full-size download is these bytes'
            # pixels, never encoded again. Deterministic, so a batch stays byte-identical.
            image = watermark.embed_image(image, request.image_id)
        out = io.BytesIO()
        image.save(out, "PNG", pnginfo=chunk, compress_level=6)
        painted.append(out.getvalue())
    return painted
