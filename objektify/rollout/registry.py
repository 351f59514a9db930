"""Which versions exist, who published them, and how each ended: a SageMaker model package
group per endpoint, one model package per version.

Status is the package's approval status: PendingManualApproval while a publish is under way,
Approved once the version served and passed its smoke test, Rejected when it was rolled back.
Our facts (version, archive hash, publisher, the config it replaced) ride in the package's
CustomerMetadataProperties.

Plain boto3 calls here (through the SDK's own client): sagemaker-core 2.27's `ModelPackage.create`
types the inference specification with the model card's shape of the same name, which rejects a
container's Environment, and reads a `ModelPackageName` the CreateModelPackage answer lacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PENDING, APPROVED, REJECTED = "PendingManualApproval", "Approved", "Rejected"


@dataclass(frozen=True)
class Release:
    """One published (or publishing) version, as the registry records it."""

    arn: str
    number: int
    status: str
    note: str
    properties: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        """A recorded fact ("" if absent): version, name, archive_sha256, archive_url, image,
        role, model, config, previous_config, published_by, published_at, smoke_passed_at,
        rolled_back_at, rolled_back_by."""
        return self.properties.get(key, "")


def sagemaker_client() -> Any:
    """The SDK's boto3 SageMaker client (same session, endpoint and retry settings)."""
    from sagemaker.core.utils.utils import SageMakerClient

    return SageMakerClient().sagemaker_client


class Registry:
    def __init__(self, group: str, client: Any | None = None) -> None:
        self.group = group
        self.client = client or sagemaker_client()

    def ensure_group(self, endpoint: str) -> None:
        try:
            self.client.describe_model_package_group(ModelPackageGroupName=self.group)
        except self.client.exceptions.ClientError:
            self.client.create_model_package_group(
                ModelPackageGroupName=self.group,
                ModelPackageGroupDescription=f"Models served by the endpoint {endpoint}",
            )

    def releases(self) -> list[Release]:
        """Every version in publishing order (oldest first); none if the group is new."""
        summaries: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"ModelPackageGroupName": self.group, "MaxResults": 100}
            if token:
                kwargs["NextToken"] = token
            try:
                page = self.client.list_model_packages(**kwargs)
            except self.client.exceptions.ClientError:
                return []
            summaries += page.get("ModelPackageSummaryList", [])
            token = page.get("NextToken")
            if not token:
                break
        summaries.sort(key=lambda s: int(s.get("ModelPackageVersion") or 0))
        return [self.get(s["ModelPackageArn"]) for s in summaries]

    def get(self, arn: str) -> Release:
        found = self.client.describe_model_package(ModelPackageName=arn)
        return Release(
            arn=found["ModelPackageArn"],
            number=int(found.get("ModelPackageVersion") or 0),
            status=found.get("ModelApprovalStatus", ""),
            note=found.get("ApprovalDescription", ""),
            properties=dict(found.get("CustomerMetadataProperties") or {}),
        )

    def find(self, version: str) -> Release | None:
        return next((r for r in self.releases() if r["version"] == version), None)

    def register(self, properties: dict[str, str], environment: dict[str, str]) -> Release:
        """A new package, pending until its smoke test passes."""
        arn = self.client.create_model_package(
            ModelPackageGroupName=self.group,
            ModelPackageDescription=f"{properties['name']} {properties['version']}",
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": properties["image"],
                        "ModelDataUrl": properties["archive_url"],
                        "Environment": environment,
                    }
                ],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["image/png"],
            },
            ModelApprovalStatus=PENDING,
            CustomerMetadataProperties=properties,
        )["ModelPackageArn"]
        return self.get(arn)

    def mark(self, release: Release, status: str, note: str, **properties: str) -> Release:
        """Set the outcome. The whole property map is sent: AWS merges it, the emulator
        replaces it, and both end the same."""
        self.client.update_model_package(
            ModelPackageArn=release.arn,
            ModelApprovalStatus=status,
            ApprovalDescription=note[:1000],
            CustomerMetadataProperties={**release.properties, **properties},
        )
        return self.get(release.arn)
