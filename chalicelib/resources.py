"""The catalogue of AWS resources besides tables, named from settings.

The local stack creates exactly these, and the infrastructure code declares the same ones, so
the names the app reads always exist in both worlds. Tables come from the PynamoDB models
(`chalicelib.models.TABLE_MODELS`).
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.adapters.ids import is_id
from chalicelib.settings import Settings

# Object keys. Every key the app writes is built (and, where an event hands one back, parsed)
# here, and the infrastructure's permissions and lifecycle rules name the same prefixes.
OUTPUT_PREFIX = "outputs/"  # originals bucket: the model's output, `outputs/<generation id>.png`
FAILURE_PREFIX = "failures/"  # originals bucket: the endpoint's failure records
QUARANTINE_PREFIX = "quarantine/"  # originals bucket: outputs kept for inspection, never served
INPUT_PREFIX = "inputs/"  # inputs bucket: request payloads
EXPORT_PREFIX = "exports/"  # exports bucket: users' data exports
DATASET_PREFIX = "datasets/"  # exports bucket: training data shards
PUBLIC_PREFIX = "images/"  # public bucket: the served copies of published images
UPLOAD_PREFIX = "incoming/"  # uploads bucket: what a presigned POST wrote, until scanned
CLEAN_UPLOAD_PREFIX = "clean/"  # uploads bucket: the scan's clean PNG of a ready upload
# The tag on an upload's objects that the uploads bucket's lifecycle rule expires by (after
# `upload_retention_days`); removed when a generation uses the upload.
UPLOAD_EXPIRY_TAG = ("objektify-expires", "true")


def output_key(generation_id: str) -> str:
    """Where the endpoint writes a generation's image (`Filename` = `<id>.png`)."""
    return f"{OUTPUT_PREFIX}{generation_id}.png"


def generation_id_of(output: str) -> str | None:
    """`outputs/<generation id>.png` → the id; None for any other key."""
    if not output.startswith(OUTPUT_PREFIX) or not output.endswith(".png"):
        return None
    candidate = output[len(OUTPUT_PREFIX) : -len(".png")]
    return candidate if is_id(candidate) else None


def failure_key(generation_id: str) -> str:
    return f"{FAILURE_PREFIX}{generation_id}-error.out"


def quarantine_key(output: str) -> str:
    return QUARANTINE_PREFIX + output


def upload_key(upload_id: str) -> str:
    """Where an upload's presigned POST writes: `incoming/<upload id>`."""
    return f"{UPLOAD_PREFIX}{upload_id}"


def upload_id_of(key: str) -> str | None:
    """`incoming/<upload id>` → the id; None for any other key."""
    if not key.startswith(UPLOAD_PREFIX):
        return None
    candidate = key[len(UPLOAD_PREFIX) :]
    return candidate if is_id(candidate) else None


def clean_upload_key(upload_id: str) -> str:
    return f"{CLEAN_UPLOAD_PREFIX}{upload_id}.png"


def upload_keys(upload_id: str) -> tuple[str, ...]:
    """Every object an upload may have: what was posted, its clean copy, quarantined evidence."""
    incoming = upload_key(upload_id)
    return (incoming, clean_upload_key(upload_id), quarantine_key(incoming))


def public_keys(image_id: str) -> dict[str, str]:
    """The served copies of a published image: thumbnail, web size, full size."""
    return {
        "thumbnail": f"{PUBLIC_PREFIX}{image_id}/thumbnail.webp",
        "web": f"{PUBLIC_PREFIX}{image_id}/web.webp",
        "full": f"{PUBLIC_PREFIX}{image_id}/{image_id}.png",
    }


@dataclass(frozen=True)
class QueueSpec:
    name: str
    visibility_seconds: int
    max_receives: int
    purpose: str

    @property
    def dlq_name(self) -> str:
        return f"{self.name}-dlq"


@dataclass(frozen=True)
class Subscription:
    topic: str
    queue: str


@dataclass(frozen=True)
class BucketNotification:
    """S3 ObjectCreated events under `prefix` go to `queue`."""

    bucket: str
    prefix: str
    queue: str


def buckets(s: Settings) -> tuple[str, ...]:
    return (
        s.inputs_bucket,
        s.originals_bucket,
        s.public_bucket,
        s.exports_bucket,
        s.models_bucket,
        s.uploads_bucket,
    )


def queues(s: Settings) -> tuple[QueueSpec, ...]:
    return (
        QueueSpec(
            s.results_queue,
            s.queue_visibility_seconds,
            s.queue_max_receives,
            "async inference success/error notifications",
        ),
        QueueSpec(
            s.exports_queue,
            s.queue_visibility_seconds,
            s.queue_max_receives,
            "data export requests",
        ),
        QueueSpec(
            s.erasures_queue,
            s.queue_visibility_seconds,
            s.queue_max_receives,
            "account erasures to finish",
        ),
        QueueSpec(
            s.scan_queue,
            s.queue_visibility_seconds,
            s.queue_max_receives,
            "S3 ObjectCreated of model outputs, to scan",
        ),
        QueueSpec(
            s.upload_scan_queue,
            s.queue_visibility_seconds,
            s.queue_max_receives,
            "S3 ObjectCreated of uploaded images, to scan",
        ),
        # Each receive is one try; the consumer hides a failed one for its backoff, so the
        # tries span well over an hour before the DLQ (services/webhooks.py).
        QueueSpec(
            s.webhooks_queue,
            s.queue_visibility_seconds,
            s.webhook_max_attempts,
            "webhook deliveries",
        ),
    )


def expiring_prefixes(s: Settings) -> tuple[tuple[str, str, int], ...]:
    """(bucket, prefix, days): objects S3 deletes by lifecycle rule (see the data inventory)."""
    return (
        (s.inputs_bucket, INPUT_PREFIX, s.input_retention_days),
        (s.exports_bucket, EXPORT_PREFIX, s.export_retention_days),
        # Training shards hold published images and prompts; an erasure cannot reach shards
        # already written, so they live a bounded time and a training run takes a fresh export.
        (s.exports_bucket, DATASET_PREFIX, s.dataset_retention_days),
        # What a presigned POST wrote is scanned within minutes, then deleted; one never
        # scanned (an emulator without events, a scan that kept failing) goes after a day.
        (s.uploads_bucket, UPLOAD_PREFIX, 1),
    )


def expiring_tags(s: Settings) -> tuple[tuple[str, tuple[str, str], int], ...]:
    """(bucket, (tag key, value), days): tagged objects S3 deletes by lifecycle rule."""
    return ((s.uploads_bucket, UPLOAD_EXPIRY_TAG, s.upload_retention_days),)


def topics(s: Settings) -> tuple[str, ...]:
    return (s.success_topic, s.error_topic)


def subscriptions(s: Settings) -> tuple[Subscription, ...]:
    """Raw-delivery SNS → SQS subscriptions."""
    return (
        Subscription(s.success_topic, s.results_queue),
        Subscription(s.error_topic, s.results_queue),
    )


def notifications(s: Settings) -> tuple[BucketNotification, ...]:
    return (
        BucketNotification(s.originals_bucket, OUTPUT_PREFIX, s.scan_queue),
        BucketNotification(s.uploads_bucket, UPLOAD_PREFIX, s.upload_scan_queue),
    )


def output_path(s: Settings) -> str:
    return f"s3://{s.originals_bucket}/{OUTPUT_PREFIX.rstrip('/')}"


def failure_path(s: Settings) -> str:
    return f"s3://{s.originals_bucket}/{FAILURE_PREFIX.rstrip('/')}"


def endpoint_alarm(s: Settings) -> str:
    """The CloudWatch alarm on the endpoint's errors; a model rollout rolls back when it fires."""
    return f"{s.endpoint_name}-errors"
