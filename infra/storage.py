"""S3 buckets from `chalicelib.resources.buckets(settings)` and the CDN in front of the public one.

Every bucket is private (all four public-access blocks), encrypted, TLS-only and logs its
access. The public derivatives (`images/`) and the web client (`site/`, infra/site.py) reach
people only through CloudFront with origin access control; nothing else can read any bucket
without a role that is allowed to. The same distribution serves the API (infra/site.py adds
its behaviours), so the web client, its images and the API share one origin.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from chalicelib import resources
from chalicelib.settings import Settings
from infra.nag import acknowledge

# Where the gallery writes the served copies (chalicelib.resources.public_keys).
PUBLIC_PREFIX = resources.PUBLIC_PREFIX
# Where the web client's files live in the same bucket (infra/site.py deploys them).
SITE_PREFIX = "site/"
# The CDN may keep a removed image this long; the app's own Cache-Control says a year, which
# would keep removals and erasures visible at the edge for that long.
CDN_MAX_AGE = cdk.Duration.minutes(5)
ACCESS_LOG_DAYS = 90
# An upload no generation used: its clean copy goes after this long (settings'
# upload_retention_days, which the record's TTL follows).
UPLOAD_RETENTION_DAYS = Settings().upload_retention_days


@dataclass(frozen=True)
class BucketRules:
    """What a bucket keeps and for how long."""

    versioned: bool = False
    expire_days: int | None = None  # every object
    expire_prefixes: tuple[tuple[str, int], ...] = ()  # (prefix, days)
    # (tag key, value, days): objects carrying the tag go after that long.
    expire_tagged: tuple[tuple[str, str, int], ...] = ()
    noncurrent_days: int | None = None


RULES: dict[str, BucketRules] = {
    # Request payloads are read once by the endpoint; an orphan of a failed submit expires too.
    "inputs_bucket": BucketRules(expire_days=7),
    # The private originals: versioned against accidental overwrite or delete, with old versions
    # gone after 30 days so that a deletion or erasure is complete by then. Failure reports and
    # quarantined outputs are kept for inspection only.
    "originals_bucket": BucketRules(
        versioned=True,
        noncurrent_days=30,
        expire_prefixes=(
            (resources.FAILURE_PREFIX, 30),
            (resources.QUARANTINE_PREFIX, 30),
        ),
    ),
    # Derivatives are rebuilt from the originals; a removal must really remove, so no versions.
    "public_bucket": BucketRules(),
    # A person's data export is fetched through a short-lived link, then has no reason to stay;
    # training datasets (datasets/) stay until an operator deletes them.
    "exports_bucket": BucketRules(expire_prefixes=((resources.EXPORT_PREFIX, 7),)),
    # Published model archives: a rollback needs the old ones, so they stay, versioned.
    "models_bucket": BucketRules(versioned=True, noncurrent_days=30),
    # Users' uploads (private: never served but to their owner's generations and, audited, to
    # moderators). What a presigned POST wrote is scanned and deleted within minutes, or goes
    # after a day; a clean copy no generation used goes by its tag; rejected evidence as the
    # outputs' quarantine does. No versions: an erasure must really delete.
    "uploads_bucket": BucketRules(
        expire_prefixes=((resources.UPLOAD_PREFIX, 1), (resources.QUARANTINE_PREFIX, 30)),
        expire_tagged=((*resources.UPLOAD_EXPIRY_TAG, UPLOAD_RETENTION_DAYS),),
    ),
}


def bucket_setting(settings: Settings, bucket_name: str) -> str:
    """The settings field (e.g. `public_bucket`) whose value is `bucket_name`."""
    for f in fields(settings):
        if f.name.endswith("_bucket") and getattr(settings, f.name) == bucket_name:
            return f.name
    raise ValueError(f"no *_bucket setting names {bucket_name!r}")


class Storage(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        settings: Settings,
        *,
        site_headers: cloudfront.IResponseHeadersPolicy,
        image_headers: cloudfront.IResponseHeadersPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # S3 server access logging delivers only to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(ACCESS_LOG_DAYS))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.by_setting: dict[str, s3.Bucket] = {}
        self.by_name: dict[str, s3.Bucket] = {}
        for name in resources.buckets(settings):
            setting = bucket_setting(settings, name)
            if setting not in RULES:
                raise ValueError(f"{setting}: add its retention rules to infra/storage.py")
            bucket = self._bucket(setting, name, RULES[setting])
            self.by_setting[setting] = self.by_name[name] = bucket
        self.distribution = self._cdn(self.by_setting["public_bucket"], site_headers, image_headers)
        # The web client posts a picture straight to the uploads bucket (a presigned POST, whose
        # signed policy is what allows it); the browser asks first, from the site's origin.
        self.by_setting["uploads_bucket"].add_cors_rule(
            allowed_methods=[s3.HttpMethods.POST],
            allowed_origins=[f"https://{self.distribution.distribution_domain_name}"],
            allowed_headers=["*"],
            max_age=3600,
        )

    @property
    def public_base_url(self) -> str:
        """Where the gallery's images are linked (`<this>/images/...`): the distribution."""
        return f"https://{self.distribution.distribution_domain_name}"

    @property
    def site_url(self) -> str:
        """The web client's address: the distribution's root."""
        return f"{self.public_base_url}/"

    def _bucket(self, setting: str, name: str, rules: BucketRules) -> s3.Bucket:
        lifecycle = [s3.LifecycleRule(abort_incomplete_multipart_upload_after=cdk.Duration.days(1))]
        if rules.expire_days:
            lifecycle.append(s3.LifecycleRule(expiration=cdk.Duration.days(rules.expire_days)))
        for prefix, days in rules.expire_prefixes:
            lifecycle.append(s3.LifecycleRule(prefix=prefix, expiration=cdk.Duration.days(days)))
        for tag, value, days in rules.expire_tagged:
            lifecycle.append(
                s3.LifecycleRule(tag_filters={tag: value}, expiration=cdk.Duration.days(days))
            )
        if rules.noncurrent_days:
            lifecycle.append(
                s3.LifecycleRule(
                    noncurrent_version_expiration=cdk.Duration.days(rules.noncurrent_days),
                    expired_object_delete_marker=True,
                )
            )
        return s3.Bucket(
            self,
            "".join(part.title() for part in setting.split("_")),
            bucket_name=name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=rules.versioned,
            lifecycle_rules=lifecycle,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"s3/{name}/",
            # Content of people: kept if the stack goes.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _cdn(
        self,
        public: s3.Bucket,
        site_headers: cloudfront.IResponseHeadersPolicy,
        image_headers: cloudfront.IResponseHeadersPolicy,
    ) -> cloudfront.Distribution:
        cache = cloudfront.CachePolicy(
            self,
            "PublicImagesCache",
            comment="Published images: immutable per key, but removals must leave the edge",
            min_ttl=cdk.Duration.seconds(0),
            default_ttl=CDN_MAX_AGE,
            max_ttl=CDN_MAX_AGE,
            query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
        )
        # One identity for both origins on the bucket: CloudFront signs its reads with it.
        access = cloudfront.S3OriginAccessControl(self, "PublicAccess")
        site = origins.S3BucketOrigin.with_origin_access_control(
            public,
            origin_access_control=access,
            origin_access_levels=[cloudfront.AccessLevel.READ],
            origin_path="/" + SITE_PREFIX.rstrip("/"),
        )
        images = origins.S3BucketOrigin.with_origin_access_control(
            public,
            origin_access_control=access,
            origin_access_levels=[cloudfront.AccessLevel.READ],
        )
        cdn = cloudfront.Distribution(
            self,
            "PublicCdn",
            comment="Objektify: the web client, the public gallery images and the API",
            # The web client; the deployment invalidates its paths, and the page headers tell
            # browsers to revalidate every file (its names carry no version).
            default_behavior=cloudfront.BehaviorOptions(
                origin=site,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=site_headers,
            ),
            default_root_object="index.html",
            additional_behaviors={
                f"/{PUBLIC_PREFIX}*": cloudfront.BehaviorOptions(
                    origin=images,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                    cache_policy=cache,
                    response_headers_policy=image_headers,
                )
            },
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        )
        acknowledge(cdn, "CFR1", "A public gallery for everyone: no country is to be refused.")
        acknowledge(
            cdn,
            "CFR2",
            "The web client and the published images are static GET/HEAD from a private "
            "origin. The API behind the same distribution has a REGIONAL web ACL on its stage "
            "with per-client rate limits (infra/firewall.py), which also covers the stage's own "
            "URL; a CloudFront web ACL would have to live in us-east-1, outside this stack.",
        )
        acknowledge(
            cdn,
            "CFR3",
            "Viewer logs would record the network address of every anonymous visitor of the "
            "gallery and the site; the service keeps personal data to the minimum, the API has "
            "its own access log without addresses, and CloudFront's metrics cover operations.",
        )
        acknowledge(
            cdn,
            "CFR4",
            "No custom domain yet: the default *.cloudfront.net certificate fixes the viewer "
            "security policy. With a domain, add its certificate and TLSv1.2_2021.",
        )
        return cdn
