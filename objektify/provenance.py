"""`objektify provenance …`: was this image made here?

    objektify provenance check photo.jpg                  # the local stack's API
    objektify provenance check photo.jpg --api https://api.example.com

Sends the file to `POST /provenance/check` and prints the answer; exits 0 when the image was
made here, 1 when it was not, 2 when the API refused it or could not be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def media_type(path: Path, data: bytes) -> str:
    """The file's type, by its first bytes, else by its name."""
    for signature, kind in SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


def _default_api() -> str:
    from objektify.local_stack import wait_for_stack

    return wait_for_stack(timeout=0).api_url


def describe(answer: dict[str, Any]) -> list[str]:
    """The answer in words, one fact a line."""
    if not answer.get("made_here"):
        return ["Not made here: no evidence links this image to Objektify."]
    lines = ["Made here (Objektify)."]
    evidence = ", ".join(answer.get("evidence") or []) or "none"
    lines.append(f"  evidence: {evidence}")
    model = answer.get("model")
    if model:
        lines.append(f"  model:    {model.get('name')} {model.get('version')}".rstrip())
    if answer.get("public"):
        lines.append(f"  image:    {answer.get('image_id')}")
        if answer.get("created_at"):
            lines.append(f"  created:  {answer['created_at']}")
    else:
        lines.append("  not public (removed, rejected or erased): the image is not named")
    return lines


def _check(args: argparse.Namespace) -> int:
    import requests

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    api = (args.api or _default_api()).rstrip("/")
    try:
        answer = requests.post(
            f"{api}/provenance/check",
            data=data,
            headers={"Content-Type": media_type(path, data)},
            timeout=args.timeout,
        )
    except requests.RequestException as exc:
        print(f"cannot reach {api}: {exc}", file=sys.stderr)
        return 2
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code != 200:
        message = body.get("message") or answer.text[:200]
        print(f"refused ({answer.status_code} {body.get('code', '')}): {message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(body, indent=2, sort_keys=True))
    else:
        print("\n".join(describe(body)))
    return 0 if body.get("made_here") else 1


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `provenance` command group."""
    group = commands.add_parser("provenance", help="check whether an image was made here")
    sub = group.add_subparsers(dest="provenance_command", required=True)
    check = sub.add_parser(
        "check",
        help="send an image (PNG, JPEG or WebP) to POST /provenance/check; exit 0 if made here",
    )
    check.add_argument("file", help="the image file")
    check.add_argument("--api", help="the API's base URL (default: the local stack's)")
    check.add_argument("--json", action="store_true", help="print the answer as JSON")
    check.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (60)")
    check.set_defaults(run=_check)
