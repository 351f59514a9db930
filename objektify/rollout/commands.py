"""`objektify model …`: the command-line face of packaging and rollout."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

STARTED = time.monotonic()


def say(line: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {line}", flush=True)


def failures() -> tuple[type[Exception], ...]:
    """What a rollout command reports as a one-line error rather than a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError
    from sagemaker.core.utils.exceptions import SageMakerCoreError

    from objektify.rollout.plan import RolloutError

    return (RolloutError, ClientError, BotoCoreError, SageMakerCoreError)


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return 1


def _target(args: argparse.Namespace) -> object:
    from objektify.rollout.target import Target

    return Target.from_settings(
        image=getattr(args, "image", None),
        role=getattr(args, "role", None),
        bake_seconds=getattr(args, "bake_seconds", None),
        poll_seconds=getattr(args, "poll_seconds", None),
        smoke_timeout_seconds=getattr(args, "smoke_timeout", None),
    )


def package(args: argparse.Namespace) -> int:
    from functions.inference.manifest import Limits
    from objektify.rollout import archive

    limits = Limits(args.min_size, args.max_size, args.max_steps)
    try:
        made = archive.package(
            Path(args.source) if args.source else None,
            Path(args.out),
            args.name,
            args.steps,
            limits,
        )
    except (archive.ArchiveError, ValueError) as exc:
        return fail(f"not packaged: {exc}")
    print(
        f"packaged {made.manifest.name} ({made.manifest.pipeline_class}, "
        f"{len(made.manifest.files)} files) into {made.path}: {made.size / 1e6:.1f} MB, "
        f"sha256 {made.sha256}"
    )
    return 0


def publish(args: argparse.Namespace, where: str) -> int:
    from objektify.rollout import publish as publishing

    say(f"publishing {args.archive} as version {args.version} to {where}")
    try:
        release = publishing.publish(
            Path(args.archive), args.version, _target(args), say, args.name
        )  # type: ignore[arg-type]
    except failures() as exc:
        return fail(str(exc))
    say(f"done: {release['name']} {release['version']} published by {release['published_by']}")
    return 0


def rollback(args: argparse.Namespace, where: str) -> int:
    from objektify.rollout import rollback as rolling

    say(f"rolling back on {where}")
    try:
        rolling.rollback(_target(args), say, args.to)  # type: ignore[arg-type]
    except failures() as exc:
        return fail(str(exc))
    return 0


def listing(args: argparse.Namespace, where: str) -> int:
    from objektify.rollout import endpoint as endpoints
    from objektify.rollout import plan
    from objektify.rollout.registry import Registry
    from objektify.rollout.target import Target

    target = Target.from_settings()
    endpoint = endpoints.current(target.endpoint)
    releases = Registry(plan.package_group(target.endpoint)).releases()
    rows = [
        {
            "version": r["version"],
            "name": r["name"],
            "status": r.status,
            "live": r["config"] == endpoint.endpoint_config_name,
            "published_at": r["published_at"],
            "published_by": r["published_by"],
            "archive_sha256": r["archive_sha256"],
            "note": r.note,
        }
        for r in releases
    ]
    if args.json:
        print(
            json.dumps(
                {
                    "endpoint": target.endpoint,
                    "status": endpoint.endpoint_status,
                    "config": endpoint.endpoint_config_name,
                    "versions": rows,
                },
                indent=2,
            )
        )
        return 0
    print(
        f"endpoint {target.endpoint} on {where}: {endpoint.endpoint_status}, "
        f"config {endpoint.endpoint_config_name}"
    )
    if not rows:
        print("no published versions")
    for row in rows:
        print(
            f"{'*' if row['live'] else ' '} {row['version']:<12} {row['name']:<18} "
            f"{row['status']:<22} {row['published_at']:<26} {row['published_by']}  "
            f"{row['archive_sha256'][:12]}  {row['note']}"
        )
    return 0


def run(args: argparse.Namespace) -> int:
    """Commands that reach AWS use the local stack when one runs here (as `dataset export`)."""
    if not args.remote:
        return int(args.model_run(args))
    from objektify.local_stack import use_local_stack_if_running

    return int(args.model_run(args, use_local_stack_if_running()))


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `model` command group."""
    model = commands.add_parser("model", help="package, publish, list and roll back models")
    model.set_defaults(run=run)
    sub = model.add_subparsers(dest="model_command", required=True)

    pack = sub.add_parser("package", help="package a diffusers folder (default: the tiny model)")
    pack.add_argument("source", nargs="?", help="a diffusers model folder")
    pack.add_argument("--out", required=True, help="the archive to write, e.g. model.tar.gz")
    pack.add_argument("--name", help="the model's name (default: the folder's)")
    pack.add_argument("--steps", type=int, default=25, help="default denoising steps")
    pack.add_argument("--min-size", type=int, default=64, help="smallest width/height accepted")
    pack.add_argument("--max-size", type=int, default=2048, help="largest width/height accepted")
    pack.add_argument("--max-steps", type=int, default=100, help="most steps accepted")
    pack.set_defaults(model_run=package, remote=False)

    pub = sub.add_parser("publish", help="upload and deploy an archive as a new version")
    pub.add_argument("archive")
    pub.add_argument("--version", required=True, help="the version to publish, e.g. 1.2.0")
    pub.add_argument("--name", help="the model's name (default: the manifest's)")
    pub.add_argument("--image", help="inference image (default: setting, else the current one)")
    pub.add_argument("--role", help="execution role (default: the current model's)")
    pub.add_argument("--bake-seconds", type=int, help="alarm-watched baking period (300)")
    pub.add_argument("--poll-seconds", type=int, help="endpoint status polling interval (5)")
    pub.add_argument("--smoke-timeout", type=int, help="seconds to wait for the smoke image")
    pub.set_defaults(model_run=publish, remote=True)

    lst = sub.add_parser("list", help="versions, their status and who published them")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(model_run=listing, remote=True)

    back = sub.add_parser("rollback", help="serve the previous (or a named) version again")
    back.add_argument("--to", help="a version that once passed its smoke test")
    back.add_argument("--poll-seconds", type=int, help="endpoint status polling interval (5)")
    back.add_argument("--smoke-timeout", type=int, help="seconds to wait for the smoke image")
    back.set_defaults(model_run=rollback, remote=True)
