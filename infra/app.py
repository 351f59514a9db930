"""The CDK app: writes the service's CloudFormation templates (a cloud assembly), offline.

    python -m infra [--outdir cdk.out] [-c key=value]...

Needs no AWS credentials, profile or CDK CLI: account and region come from the context (every
key and its default: infra/config.py). The CDK CLI deploys what this writes (`make deploy`);
the CLI can also run it (`cdk synth --app "python -m infra"`). The synth fails on any unresolved
cdk-nag (AwsSolutions) finding.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import cx_api

from infra.config import DEFAULTS, ConfigError, DeployConfig

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ROOT / "build" / "layers"
# CDK's feature flags: those aws-cdk-lib 2.275.0 recommends for new projects (what `cdk init`
# would write into cdk.json), so resources get today's defaults rather than 2.0's.
FEATURE_FLAGS = Path(__file__).with_name("feature_flags.json")
SETTINGS_PREFIX = "OBJEKTIFY_"


def parse(argv: list[str]) -> tuple[dict[str, str], Path | None]:
    parser = argparse.ArgumentParser(prog="python -m infra", description=__doc__)
    parser.add_argument("--outdir", type=Path, help="where to write the cloud assembly")
    parser.add_argument(
        "-c", "--context", action="append", default=[], metavar="KEY=VALUE", help="CDK context"
    )
    args = parser.parse_args(argv)
    context: dict[str, str] = {}
    for item in args.context:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"context {item!r}: KEY=VALUE")
        context[key] = value
    return context, args.outdir


def prepare_environment(config: DeployConfig) -> None:
    """The settings chalicelib will read: those of the stage, nothing from the caller's shell.

    Names must be the same on every synth of a stage, whoever runs it; the region is also what
    Chalice's packager asks botocore for (it needs no credentials).
    """
    for key in [k for k in os.environ if k.startswith(SETTINGS_PREFIX)]:
        del os.environ[key]
    os.environ[SETTINGS_PREFIX + "STAGE"] = config.stage
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = config.region


@contextlib.contextmanager
def working_directory(path: str) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def synthesize(context: dict[str, str], outdir: Path | None) -> cx_api.CloudAssembly:
    unknown = sorted(k for k in context if k not in DEFAULTS and not k.startswith("@"))
    if unknown:
        raise ConfigError(f"unknown context {unknown}; known: {sorted(DEFAULTS)}")
    if outdir is None and "CDK_OUTDIR" not in os.environ:
        outdir = ROOT / "cdk.out"
    flags = json.loads(FEATURE_FLAGS.read_text())
    app = cdk.App(context={**flags, **context}, outdir=str(outdir.resolve()) if outdir else None)
    config = DeployConfig.from_context(app.node.try_get_context)
    prepare_environment(config)
    from chalicelib.settings import get_settings
    from infra.nag import check
    from infra.stack import ObjektifyStack

    settings = get_settings()
    if settings.stage != config.stage:
        raise RuntimeError("chalicelib read its settings before the stage was set")
    # Chalice's construct packages the app into ./chalice.out; keep that out of the tree.
    with tempfile.TemporaryDirectory(prefix="chalice-") as work, working_directory(work):
        ObjektifyStack(
            app,
            f"objektify-{config.stage}",
            config=config,
            settings=settings,
            project_dir=ROOT,
            layers_dir=LAYERS,
            env=cdk.Environment(account=config.account, region=config.region),
        )
        check(app)
        return app.synth()


def problems(assembly: cx_api.CloudAssembly) -> tuple[list[str], list[str]]:
    """(errors, warnings) the synth recorded: cdk-nag findings, CDK validation messages."""
    errors: list[str] = []
    warnings: list[str] = []
    for stack in assembly.stacks:
        for message in stack.messages:
            line = f"{message.id}: {message.entry.data}"
            if message.level == cx_api.SynthesisMessageLevel.ERROR:
                errors.append(line)
            elif message.level == cx_api.SynthesisMessageLevel.WARNING:
                warnings.append(line)
    return errors, warnings


def main(argv: list[str] | None = None) -> None:
    context, outdir = parse(sys.argv[1:] if argv is None else argv)
    try:
        assembly = synthesize(context, outdir)
    except ConfigError as error:
        raise SystemExit(f"infra: {error}") from error
    errors, warnings = problems(assembly)
    for line in warnings:
        print(f"warning {line}", file=sys.stderr)
    for line in errors:
        print(f"error {line}", file=sys.stderr)
    if errors:
        raise SystemExit(f"infra: {len(errors)} error(s) in the synthesized templates")
    for stack in assembly.stacks:
        print(f"{stack.stack_name}: {assembly.directory}/{stack.template_file}")
