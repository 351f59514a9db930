"""The smoke test: one real async invocation through the SageMaker runtime, as the service makes
them, and a look at what comes back.

The inference id is a fresh generation-style id that no generation has, so the service's own
event handlers (the success/error notification and the output's ObjectCreated event) find no
generation and ignore it rather than failing into a dead-letter queue. The request, the output
and any failure object are deleted afterwards.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from typing import Any

SMOKE_PROMPT = "smoke test: a lighthouse on a cliff at dusk"


@dataclass(frozen=True)
class SmokeResult:
    ok: bool
    reason: str
    seconds: float


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _read(s3: Any, uri: str) -> bytes | None:
    bucket, key = _split(uri)
    try:
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def judge(png: bytes, expected: dict[str, str] | None, size: int) -> str:
    """Why the output is not a good smoke image ("" when it is): a PNG of the requested size
    naming the model the endpoint should now serve."""
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(png))
        image.load()
    except Exception as exc:  # Pillow raises several types for a bad file
        return f"the output is not an image ({type(exc).__name__})"
    if image.format != "PNG" or image.size != (size, size):
        return f"the output is a {image.format} of {image.size}, not a {size}x{size} PNG"
    if expected:
        try:
            named = json.loads(image.info.get("objektify:model", "{}"))
        except ValueError:
            named = {}
        if named != expected:
            return f"the image names the model {named or 'nobody'}, expected {expected}"
    return ""


def run(
    endpoint: Any,
    s3: Any,
    input_uri: str,
    inference_id: str,
    expected: dict[str, str] | None,
    size: int = 512,
    steps: int = 1,
    timeout_s: float = 600,
) -> SmokeResult:
    """Invoke the sagemaker-core `endpoint` once and wait for its output or failure object."""
    started = time.monotonic()
    bucket, key = _split(input_uri)
    request = {"prompt": SMOKE_PROMPT, "width": size, "height": size, "steps": steps, "seed": 0}
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(request).encode())
    leftovers = [input_uri]
    try:
        answer = endpoint.invoke_async(
            input_location=input_uri,
            content_type="application/json",
            accept="image/png",
            inference_id=inference_id,
            invocation_timeout_seconds=int(max(60, timeout_s)),
        )
        leftovers += [answer.output_location, answer.failure_location]
        while time.monotonic() - started < timeout_s:
            output = _read(s3, answer.output_location)
            if output is not None:
                reason = judge(output, expected, size)
                return SmokeResult(not reason, reason, time.monotonic() - started)
            failure = _read(s3, answer.failure_location)
            if failure is not None:
                detail = failure.decode(errors="replace")[:500]
                return SmokeResult(
                    False, f"the endpoint failed: {detail}", time.monotonic() - started
                )
            time.sleep(0.25)
        return SmokeResult(False, f"no answer within {timeout_s:.0f} s", time.monotonic() - started)
    finally:
        for uri in leftovers:
            target_bucket, target_key = _split(uri)
            s3.delete_object(Bucket=target_bucket, Key=target_key)
