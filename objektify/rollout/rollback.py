"""Rolling the endpoint back: to the config the live version replaced, or to a named version
that once passed its smoke test. The version rolled away from is marked Rejected."""

from __future__ import annotations

from collections.abc import Callable

from objektify.rollout import endpoint as endpoints
from objektify.rollout import plan
from objektify.rollout.publish import now, who
from objektify.rollout.registry import APPROVED, REJECTED, Registry, Release
from objektify.rollout.target import Target


def live_release(releases: list[Release], config_name: str) -> Release | None:
    return next((r for r in reversed(releases) if r["config"] == config_name), None)


def destination(
    releases: list[Release], live: Release | None, to: str | None
) -> tuple[str, Release | None]:
    """(config to serve, its release or None for a config no publish made)."""
    if to is not None:
        chosen = next((r for r in releases if r["version"] == to), None)
        if chosen is None:
            raise plan.RolloutError(f"no version {to} in the registry")
        if not chosen["smoke_passed_at"]:
            raise plan.RolloutError(f"version {to} never passed its smoke test; publish a new one")
        return chosen["config"], chosen
    if live is None:
        raise plan.RolloutError("the endpoint serves no published version: nothing to roll back")
    previous = live["previous_config"]
    return previous, live_release(releases, previous)


def rollback(target: Target, say: Callable[[str], None], to: str | None = None) -> str:
    """Switch the endpoint back, smoke-test it, record the outcome; returns the config served."""
    registry = Registry(plan.package_group(target.endpoint))
    releases = registry.releases()
    endpoint = endpoints.current(target.endpoint)
    if endpoint.endpoint_status != "InService":
        raise plan.RolloutError(f"endpoint {target.endpoint} is {endpoint.endpoint_status}")
    live = live_release(releases, endpoint.endpoint_config_name)
    config_name, chosen = destination(releases, live, to)
    if config_name == endpoint.endpoint_config_name:
        raise plan.RolloutError(f"the endpoint already serves {config_name}")
    if chosen is not None:  # recreate what an operator may have deleted since
        endpoints.ensure_model(chosen)
        endpoints.ensure_config(chosen, base=endpoint.endpoint_config_name)
    say(
        f"rolling back from {live['version'] if live else endpoint.endpoint_config_name} to "
        f"{chosen['version'] if chosen else config_name}"
    )
    outcome = endpoints.switch(target, config_name, say, guarded=False)
    if outcome:
        raise plan.RolloutError(f"the rollback did not complete: {outcome}")
    by, at = who(), now()
    if live is not None:
        registry.mark(
            live,
            REJECTED,
            f"rolled back to {config_name} by {by} at {at}",
            rolled_back_at=at,
            rolled_back_by=by,
        )
    environment = endpoints.environment_of(config_name)
    expected = (
        {
            "name": environment["OBJEKTIFY_MODEL_NAME"],
            "version": environment["OBJEKTIFY_MODEL_VERSION"],
        }
        if "OBJEKTIFY_MODEL_VERSION" in environment
        else None
    )
    result = endpoints.smoke_test(target, expected)
    if not result.ok:
        raise plan.RolloutError(
            f"rolled back to {config_name}, but its smoke test failed: {result.reason}"
        )
    if chosen is not None:
        registry.mark(chosen, APPROVED, f"live again after a rollback by {by} at {at}")
    say(f"smoke test passed in {result.seconds:.1f} s: {config_name} is live")
    return config_name
