"""Where a rollout goes and how it behaves: names from the app's settings, knobs from flags."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    endpoint: str
    models_bucket: str
    inputs_bucket: str
    alarms: tuple[str, ...]
    image: str | None = None  # default: the image the endpoint serves now
    role: str | None = None  # default: the execution role of the model it serves now
    bake_seconds: int = 300
    deploy_timeout_seconds: int = 3600
    poll_seconds: int = 5
    smoke_size: int = 512
    smoke_steps: int = 1
    smoke_timeout_seconds: int = 900

    @classmethod
    def from_settings(cls, **flags: object) -> Target:
        """The endpoint, buckets and alarm the app's settings name, with `flags` over them."""
        from chalicelib import resources
        from chalicelib.settings import get_settings

        settings = get_settings()
        values: dict[str, object] = {
            "endpoint": settings.endpoint_name,
            "models_bucket": settings.models_bucket,
            "inputs_bucket": settings.inputs_bucket,
            "alarms": (resources.endpoint_alarm(settings),),
            "image": settings.model_image or None,
            "smoke_size": settings.default_size,
        }
        values.update({k: v for k, v in flags.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
