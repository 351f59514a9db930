"""Publishing a model version to the async endpoint without downtime.

Every step first looks at what exists, so a publish that stopped half-way is finished by
running it again: register the version → upload the archive → create the SageMaker Model →
create the endpoint config (the current one with the new model) → update the endpoint under a
blue/green deployment policy that rolls back on the error alarm → smoke test, rolling back to
the previous config if it fails. The archive is checked before the first step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from objektify.rollout import archive as archives
from objektify.rollout import endpoint as endpoints
from objektify.rollout import plan
from objektify.rollout.registry import APPROVED, PENDING, REJECTED, Registry, Release
from objektify.rollout.target import Target

Say = Callable[[str], None]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def who() -> str:
    """The caller's identity, as AWS knows it (recorded as the publisher)."""
    import boto3

    return str(boto3.client("sts").get_caller_identity()["Arn"])


@dataclass
class Publication:
    archive: archives.Archive
    version: str
    target: Target
    say: Say
    registry: Registry
    name: str = ""
    release: Release | None = None
    endpoint: Any = None
    facts: dict[str, str] = field(default_factory=dict)


def register(p: Publication) -> None:
    """Claim the version in the registry, or resume the unfinished publish that claimed it."""
    p.registry.ensure_group(p.target.endpoint)
    existing = p.registry.find(p.version)
    if existing is not None:
        if existing.status != PENDING:
            raise plan.RolloutError(
                f"version {p.version} was already published ({existing.status}"
                f"{': ' + existing.note if existing.note else ''}); choose a new version"
            )
        if existing["archive_sha256"] != p.archive.sha256:
            raise plan.RolloutError(
                f"version {p.version} is being published from another archive "
                f"(sha256 {existing['archive_sha256'][:12]}…); choose a new version"
            )
        p.say(f"resuming the publish of {p.version} begun {existing['published_at']}")
        p.release = existing
        return
    current = endpoints.current(p.target.endpoint)
    if current.endpoint_status != "InService":
        raise plan.RolloutError(
            f"endpoint {p.target.endpoint} is {current.endpoint_status}; publish when InService"
        )
    model = endpoints.serving_model(current)
    resource = plan.resource_name(p.target.endpoint, p.version)
    key = plan.archive_key(p.target.endpoint, p.version)
    properties = {
        "version": p.version,
        "name": p.name,
        "archive_sha256": p.archive.sha256,
        "archive_url": f"s3://{p.target.models_bucket}/{key}",
        "image": p.target.image or str(model.primary_container.image),
        "role": p.target.role or str(model.execution_role_arn),
        "model": resource,
        "config": resource,
        "previous_config": str(current.endpoint_config_name),
        "published_by": who(),
        "published_at": now(),
    }
    p.release = p.registry.register(properties, plan.model_environment(p.name, p.version))
    p.say(f"registered {p.name} {p.version} in {p.registry.group} (package {p.release.number})")


def upload(p: Publication) -> None:
    assert p.release is not None
    s3 = endpoints.s3()
    bucket, key = p.target.models_bucket, plan.archive_key(p.target.endpoint, p.version)
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
        if head.get("Metadata", {}).get("sha256") == p.archive.sha256:
            p.say(f"archive already at {p.release['archive_url']}")
            return
    except s3.exceptions.ClientError:
        pass
    from objektify.progress import progress

    with progress("model publish (upload)", total=p.archive.size, unit="B") as meter:
        s3.upload_file(
            str(p.archive.path),
            bucket,
            key,
            ExtraArgs={"Metadata": {"sha256": p.archive.sha256}},
            Callback=meter.advance,  # bytes, from the transfer's threads
        )
    p.say(f"uploaded {p.archive.size / 1e6:.1f} MB to {p.release['archive_url']}")


def create_model(p: Publication) -> None:
    assert p.release is not None
    made = endpoints.ensure_model(p.release)
    p.say(f"{'created' if made else 'found'} SageMaker model {p.release['model']}")


def create_config(p: Publication) -> None:
    assert p.release is not None
    made = endpoints.ensure_config(p.release, base=p.release["previous_config"])
    p.say(f"{'created' if made else 'found'} endpoint config {p.release['config']}")


def deploy(p: Publication) -> None:
    """Move the endpoint onto the new config; SageMaker's own rollback is reported as such."""
    assert p.release is not None
    outcome = endpoints.switch(p.target, p.release["config"], p.say)
    if outcome:
        p.release = p.registry.mark(p.release, REJECTED, f"deployment rolled back: {outcome}")
        raise plan.RolloutError(f"the deployment of {p.version} was rolled back: {outcome}")


def smoke_test(p: Publication) -> None:
    """One real invocation; on failure, back to the previous config and reject the version."""
    assert p.release is not None
    result = endpoints.smoke_test(p.target, {"name": p.name, "version": p.version})
    if result.ok:
        p.release = p.registry.mark(
            p.release,
            APPROVED,
            f"smoke test passed in {result.seconds:.1f} s",
            smoke_passed_at=now(),
        )
        p.say(f"smoke test passed in {result.seconds:.1f} s: {p.name} {p.version} is live")
        return
    p.say(f"smoke test failed: {result.reason}; rolling back to {p.release['previous_config']}")
    outcome = endpoints.switch(p.target, p.release["previous_config"], p.say, guarded=False)
    p.release = p.registry.mark(
        p.release,
        REJECTED,
        f"smoke test failed: {result.reason}"[:1000],
        rolled_back_at=now(),
        rolled_back_by="smoke test",
    )
    where = "" if not outcome else f" (the rollback itself reported: {outcome})"
    raise plan.RolloutError(
        f"{p.version} failed its smoke test and was rolled back{where}: {result.reason}"
    )


STEPS: tuple[Callable[[Publication], None], ...] = (
    register,
    upload,
    create_model,
    create_config,
    deploy,
    smoke_test,
)


def publish(path: Path, version: str, target: Target, say: Say, name: str | None = None) -> Release:
    """Check the archive, then run every step; raises RolloutError with the reason."""
    plan.check_version(version)
    try:
        checked = archives.check(path)
    except archives.ArchiveError as exc:
        raise plan.RolloutError(f"refused before any change: {exc}") from exc
    say(
        f"archive {path} is sound: {checked.manifest.name}, {len(checked.manifest.files)} files, "
        f"sha256 {checked.sha256[:12]}…"
    )
    p = Publication(checked, version, target, say, Registry(plan.package_group(target.endpoint)))
    p.name = name or checked.manifest.name
    for step in STEPS:
        step(p)
    assert p.release is not None
    return p.release
