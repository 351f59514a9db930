"""Lambda layers from the folders `python -m layers.build` makes (see layers/README.md)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from layers.build import layer_names

# Amazon Linux 2023 (glibc 2.34): c2pa-python's wheels need glibc 2.28 (layers/README.md).
RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.X86_64


def function_layers(scope: Construct, built: Path, stage: str) -> dict[str, lambda_.ILayerVersion]:
    """One layer version per folder under layers/, from its build under `built`."""
    found: dict[str, lambda_.ILayerVersion] = {}
    for name in layer_names():
        content = built / name
        if not (content / "python").is_dir():
            raise FileNotFoundError(f"{content}: build the layers first (`make layers`)")
        found[name] = lambda_.LayerVersion(
            scope,
            f"{name.title()}Layer",
            layer_version_name=f"objektify-{stage}-{name}",
            code=lambda_.Code.from_asset(str(content)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description=f"Objektify {name} dependencies (layers/{name}/requirements.txt)",
        )
    return found
