"""The model server: SageMaker's serving contract on port 8080.

`GET /ping` answers 200 once the pipeline is loaded, naming the model and its limits;
`POST /invocations` takes a JSON request and answers the PNG, or 400 for a request outside the
model manifest's limits. Invocations are served concurrently (SageMaker sends up to the endpoint
config's `MaxConcurrentInvocationsPerInstance` at once) and painted in micro-batches by one
pipeline, loaded once at start (`batching.py`: requests of one size, steps, guidance and
scheduler arriving within `OBJEKTIFY_BATCH_WINDOW_MS` share a call, at most
`OBJEKTIFY_MAX_BATCH`; the scheduler is switched per call without reloading weights); each image
is the bytes its request paints alone. The image id, when the caller passes it in SageMaker's
CustomAttributes (`image_id=<id>`), is written into the image as an invisible watermark
(`watermark.py`; its format is `chalicelib/provenance/watermark.py`, copied into the image).
Image-to-image: the payload's `init_image` (base64 of the starting picture's PNG, JPEG or WebP
bytes; the container needs no access to where it came from) and `strength` (0.05 to 1.0) paint
from the same loaded weights (`pipeline.image_to_image`), never in a batch with text-to-image.
Run: `python -m functions.inference.serve [serve] [--port 8080] [--model-dir DIR]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from chalicelib.provenance import watermark
from functions.inference import batching, manifest, pipeline

# A payload with a starting picture carries it base64-encoded (the API shrinks it to the
# requested size first, so a 2048² PNG of noise, ~16 MB, fits); one without stays small.
MAX_BODY = 24 * 1024 * 1024
MAX_INIT_IMAGE = 16 * 1024 * 1024
FIELDS = {
    "init_image",
    "strength",
    "prompt",
    "negative_prompt",
    "width",
    "height",
    "steps",
    "seed",
    "guidance_scale",
    "scheduler",
}


class BadRequest(ValueError):
    """The payload is not a valid request; the message says why."""


def _int(body: dict[str, Any], name: str, low: int, high: int, default: int | None) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name} must be an integer")
    if not low <= value <= high:
        raise BadRequest(f"{name} must be from {low} to {high}")
    return value


def parse(
    raw: bytes, limits: manifest.Limits | None = None, default_steps: int = 25
) -> pipeline.Request:
    """Validate an invocation payload against the model's limits."""
    limits = limits or manifest.Limits()
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BadRequest("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(unknown)}")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > 4000:
        raise BadRequest("prompt must be a non-empty string of at most 4000 characters")
    negative = body.get("negative_prompt")
    if negative is not None and (not isinstance(negative, str) or len(negative) > 4000):
        raise BadRequest("negative_prompt must be a string of at most 4000 characters")
    default_size = min(max(512, limits.min_size), limits.max_size)
    width = _int(body, "width", limits.min_size, limits.max_size, default_size)
    height = _int(body, "height", limits.min_size, limits.max_size, default_size)
    if width % 8 or height % 8:
        raise BadRequest("width and height must be multiples of 8")
    guidance = body.get("guidance_scale", 7.5)
    if (
        isinstance(guidance, bool)
        or not isinstance(guidance, int | float)
        or not 0 <= guidance <= 30
    ):
        raise BadRequest("guidance_scale must be a number from 0 to 30")
    scheduler = body.get("scheduler", "euler")
    if scheduler not in pipeline.SCHEDULERS:
        raise BadRequest(f"scheduler must be one of {', '.join(pipeline.SCHEDULERS)}")
    init_image, strength = _init_image(body)
    return pipeline.Request(
        init_image=init_image,
        strength=strength,
        prompt=prompt,
        negative_prompt=negative or None,
        width=width,
        height=height,
        steps=_int(body, "steps", 1, limits.max_steps, default_steps),
        seed=_int(body, "seed", 0, 2**32 - 1, 0),
        guidance_scale=float(guidance),
        scheduler=scheduler,
    )


def _init_image(body: dict[str, Any]) -> tuple[bytes | None, float | None]:
    """Image-to-image's starting picture (base64 of PNG, JPEG or WebP bytes) and strength
    (0.05 to 1.0, required with it); (None, None) for text-to-image."""
    import base64
    import binascii

    encoded, strength = body.get("init_image"), body.get("strength")
    if encoded is None:
        if strength is not None:
            raise BadRequest("strength is for init_image only")
        return None, None
    if not isinstance(encoded, str) or not encoded:
        raise BadRequest("init_image must be base64 of PNG, JPEG or WebP bytes")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("init_image must be base64 of PNG, JPEG or WebP bytes") from exc
    if len(raw) > MAX_INIT_IMAGE:
        raise BadRequest(f"init_image must be at most {MAX_INIT_IMAGE} bytes")
    if not raw.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")) and raw[8:12] != b"WEBP":
        raise BadRequest("init_image must be base64 of PNG, JPEG or WebP bytes")
    if (
        isinstance(strength, bool)
        or not isinstance(strength, int | float)
        or not 0.05 <= strength <= 1.0
    ):
        raise BadRequest("strength must be a number from 0.05 to 1.0")
    from PIL import Image

    try:  # read here, so that a bad picture is this request's 400, not its batch's failure
        with Image.open(io.BytesIO(raw)) as picture:
            picture.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise BadRequest("init_image is not a readable image") from exc
    return raw, float(strength)


class ModelServer:
    def __init__(self, model_dir: Path | None, settings: batching.Settings) -> None:
        self.pipe, self.info = pipeline.load(model_dir)
        found = manifest.read(model_dir) if model_dir is not None else None
        self.limits = found.limits if found else manifest.Limits()
        self.default_steps = found.default_steps if found else 25
        self.batcher = batching.Batcher(
            lambda requests: pipeline.paint_batch(self.pipe, self.info, requests), settings
        )

    def invoke(self, raw: bytes, image_id: str | None = None) -> bytes:
        """The PNG for one invocation's payload, carrying `image_id` as its watermark when
        given; raises BadRequest for an invalid one."""
        request = parse(raw, self.limits, self.default_steps)
        return self.batcher.paint(dataclasses.replace(request, image_id=image_id))


def image_id_of(custom_attributes: str | None) -> str | None:
    """The image id the caller passed in SageMaker's CustomAttributes (`image_id=<id>`, which
    SageMaker forwards to the container verbatim); None if it passed none."""
    for part in (custom_attributes or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "image_id":
            try:
                watermark.pack(value)
            except ValueError as exc:
                raise BadRequest("image_id must be an image id") from exc
            return value
    return None


def make_handler(server: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Objektify-Model", f"{server.info.name}/{server.info.version}")
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str) -> None:
            self._send(status, json.dumps({"error": message}).encode(), "application/json")

        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/ping":
                body = {
                    "status": "ok",
                    "model": server.info.as_dict(),
                    "limits": vars(server.limits),
                    "default_steps": server.default_steps,
                    "batching": vars(server.batcher.settings),
                }
                self._send(200, json.dumps(body).encode(), "application/json")
            else:
                self._error(404, "not found")

        def do_POST(self) -> None:
            if self.path.split("?")[0] != "/invocations":
                self._error(404, "not found")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._error(413, f"the body must be at most {MAX_BODY} bytes")
                return
            raw = self.rfile.read(length)
            try:
                image_id = image_id_of(self.headers.get("X-Amzn-SageMaker-Custom-Attributes"))
                image = server.invoke(raw, image_id)
            except BadRequest as exc:
                self._error(400, str(exc))
                return
            except Exception as exc:  # the model failed: say so, keep serving
                self.log_error("invocation failed: %s: %s", type(exc).__name__, exc)
                self._error(500, f"the model failed: {type(exc).__name__}")
                return
            self._send(200, image, "image/png")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def model_dir_from(arg: str | None) -> Path | None:
    for candidate in (arg, os.environ.get("SM_MODEL_DIR"), "/opt/ml/model"):
        if candidate and pipeline.has_model(Path(candidate)):
            return Path(candidate)
    if arg:
        raise SystemExit(f"{arg} holds no diffusers pipeline (no model_index.json)")
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a diffusers pipeline, SageMaker style.")
    parser.add_argument("command", nargs="?", choices=["serve"], help="SageMaker passes `serve`")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("SAGEMAKER_BIND_TO_PORT", 8080))
    )
    parser.add_argument("--host", default=os.environ.get("OBJEKTIFY_BIND_HOST", "127.0.0.1"))
    parser.add_argument("--model-dir")
    args = parser.parse_args()
    settings = batching.Settings.from_env()
    try:
        server = ModelServer(model_dir_from(args.model_dir), settings)
    except manifest.ManifestError as exc:
        raise SystemExit(f"the model folder does not match its manifest: {exc}") from exc
    httpd = ThreadingHTTPServer((args.host, args.port), make_handler(server))
    httpd.daemon_threads = True
    print(
        f"model {server.info.name} {server.info.version} on http://{args.host}:{args.port}"
        f" (batches of up to {settings.max_batch} within {settings.window_ms} ms)",
        flush=True,
    )
    httpd.serve_forever()


if __name__ == "__main__":
    main()
