"""What an operator chooses per deployment, read from CDK context (`-c key=value`).

Everything else (resource names, limits) comes from `chalicelib.settings` for the stage, so the
deployed functions and the resources they are given cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

STAGE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")  # it ends up in bucket names
ACCOUNT = re.compile(r"^\d{12}$")
ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*)(?::[\w.-]+|@sha256:[0-9a-f]{64})$"
)
S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")
# Words Cognito refuses in a sign-in domain prefix (the prefix holds the stage).
RESERVED_IN_SIGN_IN_DOMAIN = ("aws", "amazon", "cognito")

DEFAULTS: dict[str, str] = {
    "stage": "dev",
    "account": "123456789012",
    "region": "us-east-1",
    # Default: <account>.dkr.ecr.<region>.amazonaws.com/objektify-inference:latest
    "model_image": "",
    "model_data": "",
    "instance_type": "ml.g5.xlarge",
    "max_instances": "2",
    # Invocations SageMaker sends one instance at once: the container paints those that share
    # size, steps and guidance in one micro-batch (functions/inference/batching.py).
    "max_concurrent_invocations": "4",
    "backlog_per_instance": "5",
    "alarm_email": "",
    "api_rate_limit": "50",
    "api_burst_limit": "100",
    # Requests one client address may make in a rolling window (WAF rate-based rules, infra/
    # firewall.py): about 2 a second on average, several times what a busy person's browser
    # makes while polling a generation, with room for a few people behind one shared address.
    "waf_rate_limit": "600",
    "waf_rate_window": "300",  # seconds: 60, 120, 300 or 600
    # Sign-ups and e-mail-sending calls (confirmation codes, password resets) per address in
    # the same window: a few people signing up behind one address, not a script.
    "waf_sign_up_limit": "20",
}
# The evaluation windows AWS WAF offers, and its smallest limit.
WAF_WINDOWS = (60, 120, 300, 600)
WAF_MIN_LIMIT = 10


class ConfigError(ValueError):
    """A context value an operator must correct before anything is synthesized."""


@dataclass(frozen=True)
class DeployConfig:
    stage: str
    account: str
    region: str
    model_image: str
    model_data: str
    instance_type: str
    max_instances: int
    max_concurrent_invocations: int
    backlog_per_instance: int
    alarm_email: str
    api_rate_limit: int
    api_burst_limit: int
    waf_rate_limit: int
    waf_rate_window: int
    waf_sign_up_limit: int

    @classmethod
    def from_context(cls, read: Any) -> DeployConfig:
        """`read(key)` gives a context value or None (e.g. `app.node.try_get_context`)."""
        raw = {key: str(read(key) or default) for key, default in DEFAULTS.items()}
        if not raw["model_image"]:
            raw["model_image"] = (
                f"{raw['account']}.dkr.ecr.{raw['region']}.amazonaws.com/objektify-inference:latest"
            )
        numbers = {
            key: _positive(key, raw[key])
            for key in (
                "max_instances",
                "max_concurrent_invocations",
                "backlog_per_instance",
                "api_rate_limit",
                "api_burst_limit",
                "waf_rate_limit",
                "waf_rate_window",
                "waf_sign_up_limit",
            )
        }
        config = cls(**{**raw, **numbers})  # type: ignore[arg-type]
        config.validate()
        return config

    def validate(self) -> None:
        if not STAGE.match(self.stage):
            raise ConfigError(f"stage {self.stage!r}: lowercase letters, digits, '-', ≤ 20")
        if any(word in self.stage for word in RESERVED_IN_SIGN_IN_DOMAIN):
            raise ConfigError(
                f"stage {self.stage!r}: Cognito refuses 'aws', 'amazon' or 'cognito' in the "
                f"sign-in domain {self.sign_in_domain_prefix!r}"
            )
        if not ACCOUNT.match(self.account):
            raise ConfigError(f"account {self.account!r}: twelve digits")
        if not ECR_IMAGE.match(self.model_image):
            raise ConfigError(f"model_image {self.model_image!r}: an ECR image URI with a tag")
        if self.model_data and not S3_URI.match(self.model_data):
            raise ConfigError(f"model_data {self.model_data!r}: s3://bucket/key.tar.gz")
        if not self.instance_type.startswith("ml."):
            raise ConfigError(f"instance_type {self.instance_type!r}: a SageMaker type (ml.*)")
        for key in ("waf_rate_limit", "waf_sign_up_limit"):
            if getattr(self, key) < WAF_MIN_LIMIT:
                raise ConfigError(f"{key} {getattr(self, key)}: at least {WAF_MIN_LIMIT}")
        if self.waf_rate_window not in WAF_WINDOWS:
            raise ConfigError(f"waf_rate_window {self.waf_rate_window}: one of {WAF_WINDOWS}")

    @property
    def sign_in_domain_prefix(self) -> str:
        """The Cognito hosted UI's domain prefix: unique per region across all of AWS, so the
        account is in it besides the stage (≤ 43 characters of the 63 allowed)."""
        return f"objektify-{self.stage}-{self.account}"

    @property
    def image_repository_arn(self) -> str:
        """The ECR repository the model image is pulled from (for least-privilege pulls)."""
        found = ECR_IMAGE.match(self.model_image)
        assert found is not None  # validated
        partition = "aws-cn" if ".amazonaws.com.cn/" in self.model_image else "aws"
        return (
            f"arn:{partition}:ecr:{found['region']}:{found['account']}:"
            f"repository/{found['repository']}"
        )

    @property
    def model_data_object(self) -> tuple[str, str] | None:
        found = S3_URI.match(self.model_data) if self.model_data else None
        return (found["bucket"], found["key"]) if found else None


def _positive(key: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{key} {value!r}: a positive integer")
    return int(value)
