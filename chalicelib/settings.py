"""One typed settings object, read from the environment.

Every resource name, endpoint and limit the application uses comes from here. The same names
are used by the local stack to create its resources and by the infrastructure code to wire the
deployed functions, so the two worlds cannot drift apart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import lru_cache

PREFIX = "OBJEKTIFY_"


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    stage: str = "local"
    region: str = "us-east-1"
    # Tables (DynamoDB)
    users_table: str = ""
    terms_table: str = ""
    consents_table: str = ""
    consent_evidence_table: str = ""
    generations_table: str = ""
    idempotency_table: str = ""
    gallery_table: str = ""
    reports_table: str = ""
    audit_table: str = ""
    exports_table: str = ""
    quota_table: str = ""
    statements_table: str = ""
    notices_table: str = ""
    notice_contacts_table: str = ""
    report_days_table: str = ""
    names_table: str = ""  # display names, one claim item per name
    fingerprints_table: str = ""  # perceptual fingerprints of model outputs (provenance)
    # PDQ hashes uploads are refused for: imported lists and images removed or rejected here.
    blocked_hashes_table: str = ""
    uploads_table: str = ""  # images users upload to start from (issue 20)
    # Buckets (S3): async request payloads, private model outputs (originals), public derivatives
    inputs_bucket: str = ""
    originals_bucket: str = ""
    public_bucket: str = ""
    exports_bucket: str = ""
    models_bucket: str = ""  # packaged model archives (`objektify model publish`)
    uploads_bucket: str = ""  # users' uploaded images: incoming/, clean/, quarantine/ (private)
    # Event plumbing (SQS with a DLQ each; SNS topics the async endpoint notifies)
    results_queue: str = ""
    scan_queue: str = ""
    upload_scan_queue: str = ""  # S3 ObjectCreated of incoming/ uploads, to scan
    exports_queue: str = ""
    erasures_queue: str = ""
    success_topic: str = ""
    error_topic: str = ""
    queue_visibility_seconds: int = 60
    queue_max_receives: int = 5
    # The SageMaker async endpoint
    endpoint_name: str = ""
    invocation_timeout_seconds: int = 300
    model_image: str = ""  # the inference image new models run in; the current one's if empty
    # Generation rules
    # Each side a multiple of 64 from min_size to max_size (within the model's own limits).
    min_size: int = 256
    max_size: int = 1024
    default_size: int = 512
    default_guidance: float = 7.5
    default_steps: int = 25
    max_steps: int = 50
    quota_limit: int = 30
    quota_window_seconds: int = 600
    queued_deadline_seconds: int = 1200
    # A generation the model has not taken yet is started again by the sweeper after this long.
    start_retry_seconds: int = 30
    scanning_deadline_seconds: int = 300
    # Gallery
    feed_shards: int = 4
    public_base_url: str = ""  # a CDN in front of the public bucket; presigned URLs if empty
    # The automated scan: "nudenet" (offline, optional extra), "rekognition" (AWS) or "none"
    image_scanner: str = "nudenet"
    max_output_bytes: int = 40_000_000
    # Uploads (issue 20): the presigned POST's size limit, how long it may be used, how many
    # one user may start per window, and how long an upload no generation used is kept.
    max_upload_bytes: int = 10 * 1024 * 1024
    upload_post_seconds: int = 900
    upload_limit: int = 20
    upload_window_seconds: int = 3600
    upload_retention_days: int = 30
    # Moderation and enforcement
    report_threshold: int = 3  # distinct reports that take an image out of public view
    review_url_seconds: int = 600  # at most 15 minutes
    review_link_seconds: int = 14_400  # 4 hours; never more than 8 (review_links.MAX_SECONDS)
    strike_limit: int = 3  # strikes that suspend an account automatically
    auto_suspend_days: int = 7
    appeal_window_days: int = 183  # six months: a decision may be appealed for this long
    notice_limit: int = 5  # notices one network address may send per window
    notice_window_seconds: int = 3600
    notice_contact_max_days: int = 365  # a notifier's contact, if the notice is never decided
    # Provenance checks (POST /provenance/check) one network address may make per window.
    provenance_check_limit: int = 20
    provenance_check_window_seconds: int = 60
    api_base_url: str = ""  # for absolute review links; the request's host if empty
    # Privacy: retention periods (see docs/data-inventory.yaml)
    export_retention_days: int = 7
    # One export per user at a time; one not finished after this long no longer counts.
    export_pending_seconds: int = 3600
    input_retention_days: int = 7
    erased_marker_seconds: int = 86_400  # longer than any access token lives
    dataset_shard_size: int = 1000
    dataset_retention_days: int = 30
    # Service switches: Powertools feature flags in an SSM parameter (JSON)
    flags_parameter: str = ""
    flags_cache_seconds: int = 5
    suspended_retry_after: int = 300
    # Keys that sign cursors and links; the first signs, all verify (rotation).
    signing_keys: tuple[str, ...] = field(default=(), repr=False)
    # In AWS the secret values above live in Secrets Manager under these ids (ARNs); empty
    # locally, where the values come straight from the environment.
    signing_keys_secret: str = ""
    address_hash_key_secret: str = ""
    # Content credentials (C2PA): the asymmetric KMS key that signs the manifests (an id, ARN
    # or alias; the key never leaves KMS) and the SSM parameter holding its certificate chain
    # (PEM, signing certificate first).
    credentials_key_id: str = ""
    credentials_chain_parameter: str = ""
    presign_seconds: int = 600
    # AWS clients (PynamoDB's too): botocore's own retry modes, never hand-written loops;
    # aws_max_attempts is botocore's `max_attempts`, the retries after the first try.
    aws_retry_mode: str = "standard"
    aws_max_attempts: int = 4
    # Sign-in: a Cognito user pool (moto's locally). The JWKS URL is its own setting because
    # the issuer claim always names the AWS host while the keys are served by the emulator.
    cognito_issuer: str = ""
    cognito_jwks_url: str = ""
    cognito_client_ids: tuple[str, ...] = ()
    cognito_user_pool_id: str = ""
    token_use: str = "access"
    jwks_cache_seconds: int = 300
    # Keyed hashing of network addresses kept as consent evidence.
    address_hash_key: str = field(default="", repr=False)
    address_retention_days: int = 180
    # Caches that keep the per-request cost of the consent check at one read.
    terms_cache_seconds: int = 5
    # Webhooks (issue 18): users' hooks and their deliveries, and the queue of deliveries to
    # make. A failed delivery is tried again after backoff·2^(n-1) s (capped), up to
    # webhook_max_attempts tries: the defaults keep trying for ≈75 minutes, then dead-letter.
    webhooks_table: str = ""
    webhooks_queue: str = ""
    webhook_timeout_seconds: int = 10
    webhook_backoff_seconds: int = 30
    webhook_backoff_max_seconds: int = 900
    webhook_max_attempts: int = 10
    webhook_delivery_days: int = 30  # delivery records shown in GET /me/webhook, then TTL
    # Plain http:// to a loopback address, for a developer receiving on their own machine:
    # `make dev` and the test stacks only; in AWS only https to public addresses is allowed.
    webhook_allow_loopback_http: bool = False
    # Queue position (issue 18): counters of accepted and finished work per endpoint, and the
    # per-minute finishes that give the recent throughput; a job's seconds before any is seen.
    queue_counters_table: str = ""
    queue_throughput_minutes: int = 5
    queue_default_job_seconds: int = 20
    # Personal API keys (issue 18): the table, how many keys one user may hold, and how often
    # at most a key's last use is written (a busy script costs one write a minute, not one a call).
    api_keys_table: str = ""
    api_key_limit: int = 10
    api_key_touch_seconds: int = 60
    # Live updates (issue 18): open WebSocket connections (TTL: API Gateway closes each one
    # after 2 hours), the URL clients connect to, and the @connections management API the app
    # pushes through (in AWS https://{api-id}.execute-api.{region}.amazonaws.com/{stage};
    # empty: boto3's AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI, as the local stack sets it).
    connections_table: str = ""
    websocket_url: str = ""
    websocket_management_url: str = ""
    websocket_connection_seconds: int = 7200
    # HTTP
    max_body_bytes: int = 262_144
    cors_origins: tuple[str, ...] = ()
    # Prompt screening: a policy file to use instead of the one shipped in the package.
    prompt_policy_path: str = ""

    def table_name(self, suffix: str) -> str:
        return f"objektify-{self.stage}-{suffix}"

    @classmethod
    def from_env(cls) -> Settings:
        stage = os.environ.get(PREFIX + "STAGE", "local")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        base = cls(stage=stage, region=region)
        values: dict[str, object] = {"stage": stage, "region": region}
        for f in fields(cls):
            if f.name in values:
                continue
            default = getattr(base, f.name)
            for suffix in ("_table", "_bucket", "_queue", "_topic"):
                if f.name.endswith(suffix):
                    default = base.table_name(f.name.removesuffix(suffix).replace("_", "-"))
            if f.name == "endpoint_name":
                default = base.table_name("generator")
            if f.name == "flags_parameter":
                default = f"/objektify/{stage}/flags"
            if f.name == "credentials_key_id":
                default = f"alias/objektify-{stage}-content-credentials"
            if f.name == "credentials_chain_parameter":
                default = f"/objektify/{stage}/content-credentials-chain"
            raw = os.environ.get(PREFIX + f.name.upper())
            if raw is None:
                values[f.name] = default
            elif isinstance(default, bool):
                values[f.name] = raw.lower() in ("1", "true", "yes", "on")
            elif isinstance(default, int):
                values[f.name] = int(raw)
            elif isinstance(default, tuple):
                values[f.name] = _csv(raw)
            else:
                values[f.name] = raw
        return cls(**values)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings.from_env()
