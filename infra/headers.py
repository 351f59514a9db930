"""What CloudFront adds to its answers (infra/storage.py, infra/site.py).

The web client's files get the headers the local server sends with them (its
Content-Security-Policy and `PAGE_HEADERS`, both from chalicelib/web_front.py), adjusted to AWS;
API answers and gallery images get the transport and framing headers only (a page's policy means
nothing for JSON or an image, and their Cache-Control is their origin's).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from constructs import Construct

from chalicelib.web_front import PAGE_HEADERS, content_security_policy

HSTS_SECONDS = 31_536_000  # as the app's own header (chalicelib/api/http.py)
# PAGE_HEADERS that CloudFront sets through fields of its own, with the values it can send.
TYPED = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def review_origins(originals_bucket: str, region: str) -> list[str]:
    """Where moderators' review images come from: presigned URLs of the private originals.
    botocore signs them on the bucket's global virtual-hosted name; S3 may redirect that to
    the regional name while a new bucket's DNS settles, and the CSP checks redirects too."""
    return [
        f"https://{originals_bucket}.s3.amazonaws.com",
        f"https://{originals_bucket}.s3.{region}.amazonaws.com",
    ]


def site_content_security_policy(
    hosted_ui_url: str,
    image_origins: list[str],
    region: str = "",
    upload_origins: list[str] | None = None,
) -> str:
    """The local server's policy, for AWS: the gallery's images come from the distribution that
    serves the page ('self'), review images from `image_origins`, the sign-in code is traded
    for tokens at the hosted UI's domain (a fetch, so in connect-src), and live updates come
    over the WebSocket API (its id is made after this policy, hence the region's API hosts).
    The web client posts an uploaded picture straight to the uploads bucket's presigned POST
    (`upload_origins`, a fetch: connect-src), and moderators see an upload there (img-src)."""
    sockets = [f"wss://*.execute-api.{region}.amazonaws.com"] if region else []
    uploads = upload_origins or []
    return content_security_policy(
        [*image_origins, *uploads], connect_origins=[hosted_ui_url, *sockets, *uploads]
    )


def _security(csp: str | None) -> cloudfront.ResponseSecurityHeadersBehavior:
    return cloudfront.ResponseSecurityHeadersBehavior(
        content_security_policy=(
            cloudfront.ResponseHeadersContentSecurityPolicy(
                content_security_policy=csp, override=True
            )
            if csp
            else None
        ),
        content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
        frame_options=cloudfront.ResponseHeadersFrameOptions(
            frame_option=cloudfront.HeadersFrameOption.DENY, override=True
        ),
        referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
            referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
        ),
        strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
            access_control_max_age=cdk.Duration.seconds(HSTS_SECONDS),
            include_subdomains=True,
            override=True,
        ),
    )


class ResponseHeaders(Construct):
    """`site`: the web client's policy; `served`: the API's answers and the gallery's images."""

    def __init__(self, scope: Construct, id: str, csp: str) -> None:
        super().__init__(scope, id)
        if {name: PAGE_HEADERS.get(name) for name in TYPED} != TYPED:
            raise ValueError("web_front.PAGE_HEADERS changed: send the same from CloudFront")
        self.site = cloudfront.ResponseHeadersPolicy(
            self,
            "Site",
            comment="Objektify web client: its CSP and page headers, as served locally",
            security_headers_behavior=_security(csp),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(header=name, value=value, override=True)
                    for name, value in PAGE_HEADERS.items()
                    if name not in TYPED
                ]
            ),
        )
        self.served = cloudfront.ResponseHeadersPolicy(
            self,
            "Served",
            comment="Objektify API answers and gallery images: transport and framing headers",
            security_headers_behavior=_security(None),
        )
