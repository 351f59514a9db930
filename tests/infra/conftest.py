"""One synth for the whole session (it takes ≈20 s): the layers are built as `make layers` does
(cached under build/layers), then the CDK app runs as `make synth` does, in a subprocess with no
AWS credentials, profile or OBJEKTIFY_* variables, from a foreign working directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from tests.infra.support import ACCOUNT, CONTEXT, ROOT, Synth


def _clean_environment() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OBJEKTIFY_", "CDK_"))}
    # Anything that would reach AWS must fail loudly, not find credentials somewhere.
    keep.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    return keep


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    env = _clean_environment()
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "layers.build"], cwd=ROOT, env=env, check=True)
    layers_seconds = time.monotonic() - started
    out = tmp_path_factory.mktemp("cdk") / "cdk.out"
    context = [arg for key, value in CONTEXT.items() for arg in ("-c", f"{key}={value}")]
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "infra", "--outdir", str(out), *context],
        cwd=tmp_path_factory.mktemp("elsewhere"),
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    synth_seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]
    stack = f"objektify-{CONTEXT['stage']}"
    return Synth(
        outdir=out,
        template=json.loads((out / f"{stack}.template.json").read_text()),
        report=json.loads((out / "validation-report.json").read_text()),
        output=result.stdout + result.stderr,
        layers_seconds=layers_seconds,
        synth_seconds=synth_seconds,
    )


@pytest.fixture(scope="session")
def template(synth: Synth) -> Template:
    return Template.from_json(synth.template)


@pytest.fixture(scope="session")
def account() -> str:
    return ACCOUNT


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.infra)
