"""Model rollout on the local stack: `objektify model …` as an operator runs it, generations
through the API with real tokens, the SageMaker control plane and registry in the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from functions.inference.manifest import Limits
from local.config import StackState
from objektify.rollout import archive
from tests.support.aws import client, name
from tests.support.client import Api, anonymous, sign_in
from tests.support.stack import running_stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
ENDPOINT = "objektify-local-generator"


@pytest.fixture(scope="module")
def rollout_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackState]:
    """A stack of its own: publishing changes the model every user's images come from."""
    with running_stack(tmp_path_factory.mktemp("rollout")) as state:
        yield state


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("archives")
    tiny = archive.package(None, folder / "tiny.tar.gz")
    # A model that cannot paint the service's 512x512 default: its container answers 400.
    small = archive.package(None, folder / "small.tar.gz", "tiny-small", 4, Limits(max_size=256))
    return {"tiny": tiny.path, "small": small.path}


def objektify(state: StackState, *args: str) -> subprocess.CompletedProcess[str]:
    """The `objektify` command, finding the local stack as an operator's shell would."""
    return run_module(state, "objektify.cli", *args)


def run_module(state: StackState, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OBJEKTIFY_"))}
    env["OBJEKTIFY_LOCAL_DIR"] = state.extra["dir"]
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def publish(state: StackState, path: Path, version: str) -> subprocess.CompletedProcess[str]:
    return objektify(
        state, "model", "publish", str(path), "--version", version, "--poll-seconds", "1"
    )


def serving(state: StackState) -> str:
    return str(
        client(state, "sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]
    )


def listing(state: StackState) -> dict:
    answer = objektify(state, "model", "list", "--json")
    assert answer.returncode == 0, answer.stderr
    return dict(json.loads(answer.stdout))


def version_of(state: StackState, version: str) -> dict:
    return next(v for v in listing(state)["versions"] if v["version"] == version)


def painted_by(api: Api) -> tuple[str, dict]:
    """Make one image; (its id, the model GET /generations/{id} names once it is scanned)."""
    created = api.post("/generations", json={"prompt": "a quiet harbour", "steps": 1})
    assert created.status_code == 202, created.text

    def scanned() -> dict | None:
        body = api.get(f"/generations/{created.json()['id']}").json()
        return body if body["status"] == "published" and body.get("model") else None

    done = wait_for(scanned, timeout=90, what="the generation to be scanned")
    return done["id"], done["model"]


def aws_state(state: StackState) -> dict[str, int]:
    sagemaker = client(state, "sagemaker")
    try:
        packages = len(
            sagemaker.list_model_packages(ModelPackageGroupName=f"{ENDPOINT}-models")[
                "ModelPackageSummaryList"
            ]
        )
    except sagemaker.exceptions.ClientError:
        packages = 0
    objects = client(state, "s3").list_objects_v2(Bucket=name(state, "models")).get("KeyCount", 0)
    return {
        "models": len(sagemaker.list_models()["Models"]),
        "configs": len(sagemaker.list_endpoint_configs()["EndpointConfigs"]),
        "packages": packages,
        "archives": objects,
    }


def provenance_carries_the_version(state: StackState, versions: dict[str, str]) -> None:
    """The downloadable copy's XMP marking and the training dataset name each image's model."""
    for image_id, version in versions.items():
        link = anonymous(state).get(f"/gallery/{image_id}/download", allow_redirects=False)
        marked = requests.get(link.headers["Location"], timeout=10).content
        assert f"objektify-tiny {version}".encode() in marked
    out = f"s3://{name(state, 'exports')}/datasets/rollout"
    exported = objektify(state, "dataset", "export", "--out", out)
    assert exported.returncode == 0, exported.stderr
    lines = (
        client(state, "s3")
        .get_object(Bucket=name(state, "exports"), Key="datasets/rollout/manifest.jsonl")["Body"]
        .read()
        .decode()
        .splitlines()
    )
    exported_versions = {r["id"]: r["model"]["version"] for r in map(json.loads, lines)}
    assert {i: exported_versions[i] for i in versions} == versions


def test_a_broken_archive_is_refused_before_anything_changes(
    rollout_stack: StackState, archives: dict[str, Path], tmp_path: Path
) -> None:
    tampered = tmp_path / "tampered.tar.gz"
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "xzf", str(archives["tiny"]), "-C", str(unpacked)], check=True)
    with (unpacked / "unet" / "config.json").open("a") as config:
        config.write(" ")
    subprocess.run(["tar", "czf", str(tampered), "-C", str(unpacked), "."], check=True)
    before, config_before = aws_state(rollout_stack), serving(rollout_stack)

    refused = publish(rollout_stack, tampered, "9.9.9")
    assert refused.returncode == 1
    assert "refused before any change" in refused.stderr
    assert "unet/config.json: size differs from the manifest" in refused.stderr
    (unpacked / "objektify-model.json").unlink()
    subprocess.run(["tar", "czf", str(tampered), "-C", str(unpacked), "."], check=True)
    refused = publish(rollout_stack, tampered, "9.9.9")
    assert refused.returncode == 1 and "no objektify-model.json" in refused.stderr
    assert aws_state(rollout_stack) == before
    assert serving(rollout_stack) == config_before


def test_publishing_changes_the_model_of_new_generations_only_and_rollback_restores_it(
    rollout_stack: StackState, archives: dict[str, Path]
) -> None:
    alice = sign_in(rollout_stack)
    alice.accept_current_terms()
    first = publish(rollout_stack, archives["tiny"], "1.0")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "smoke test passed" in first.stdout
    old_id, old_model = painted_by(alice)
    assert old_model == {"name": "objektify-tiny", "version": "1.0"}

    second = publish(rollout_stack, archives["tiny"], "2.0")
    assert second.returncode == 0, second.stdout + second.stderr
    new_id, new_model = painted_by(alice)
    assert new_model == {"name": "objektify-tiny", "version": "2.0"}
    assert alice.get(f"/generations/{old_id}").json()["model"]["version"] == "1.0"
    assert alice.get(f"/gallery/{new_id}").json()["model"]["version"] == "2.0"

    provenance_carries_the_version(rollout_stack, {old_id: "1.0", new_id: "2.0"})

    again = publish(rollout_stack, archives["tiny"], "1.0")
    assert again.returncode == 1 and "already published" in again.stderr
    listed = listing(rollout_stack)
    live = [v["version"] for v in listed["versions"] if v["live"]]
    assert live == ["2.0"]
    assert version_of(rollout_stack, "1.0")["published_by"].startswith("arn:aws:")

    back = objektify(rollout_stack, "model", "rollback", "--poll-seconds", "1")
    assert back.returncode == 0, back.stdout + back.stderr
    _, model = painted_by(alice)
    assert model["version"] == "1.0"
    assert version_of(rollout_stack, "2.0")["status"] == "Rejected"
    forward = objektify(rollout_stack, "model", "rollback", "--to", "2.0", "--poll-seconds", "1")
    assert forward.returncode == 0, forward.stdout + forward.stderr
    assert version_of(rollout_stack, "2.0")["live"]


def test_a_model_failing_its_smoke_test_is_rolled_back(
    rollout_stack: StackState, archives: dict[str, Path]
) -> None:
    before = serving(rollout_stack)
    failed = publish(rollout_stack, archives["small"], "3.0-small")
    assert failed.returncode == 1
    assert "failed its smoke test and was rolled back" in failed.stderr
    assert "width must be from 64 to 256" in failed.stderr
    assert serving(rollout_stack) == before
    record = version_of(rollout_stack, "3.0-small")
    assert record["status"] == "Rejected" and not record["live"]


def test_a_deployment_whose_alarm_fires_is_rolled_back_by_the_policy(
    rollout_stack: StackState, archives: dict[str, Path]
) -> None:
    cloudwatch = client(rollout_stack, "cloudwatch")
    alarm = f"{ENDPOINT}-errors"
    before = serving(rollout_stack)
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="errors")
    try:
        failed = publish(rollout_stack, archives["tiny"], "4.0-alarmed")
    finally:
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="calm")
    assert failed.returncode == 1
    assert "rolled back" in failed.stderr and alarm in failed.stderr
    assert serving(rollout_stack) == before
    assert version_of(rollout_stack, "4.0-alarmed")["status"] == "Rejected"


def test_a_half_finished_publish_converges_when_run_again(
    rollout_stack: StackState, archives: dict[str, Path]
) -> None:
    before = aws_state(rollout_stack)
    crashed = run_module(
        rollout_stack,
        "tests.support.publish_partially",
        str(archives["tiny"]),
        "--version",
        "5.0",
        "--die-after",
        "create_model",
    )
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    assert version_of(rollout_stack, "5.0")["status"] == "PendingManualApproval"
    finished = publish(rollout_stack, archives["tiny"], "5.0")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "resuming the publish of 5.0" in finished.stdout
    assert "found SageMaker model" in finished.stdout
    after = aws_state(rollout_stack)
    assert after == {key: count + 1 for key, count in before.items()}  # one of each, not two
    assert version_of(rollout_stack, "5.0")["live"]
