"""S3: put and read objects (whole, or as a stream), presigned URLs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from chalicelib.adapters.aws import client
from chalicelib.settings import get_settings


def put_json(bucket: str, key: str, body: bytes) -> None:
    client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


def put_json_once(bucket: str, key: str, body: bytes, metadata: dict[str, str]) -> dict[str, str]:
    """Write the object unless one is there already; the metadata of the object that is there."""
    s3 = client("s3")
    try:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            Metadata=metadata,
            IfNoneMatch="*",
        )
        return metadata
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412"):
            raise
    return dict(s3.head_object(Bucket=bucket, Key=key).get("Metadata", {}))


def put_bytes(bucket: str, key: str, body: bytes, content_type: str, **extra: Any) -> None:
    client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, **extra)


def read(bucket: str, key: str, max_bytes: int) -> bytes:
    """The object's bytes; refuses (ValueError) an object larger than `max_bytes`."""
    answer = client("s3").get_object(Bucket=bucket, Key=key)
    if int(answer.get("ContentLength", 0)) > max_bytes:
        answer["Body"].close()
        raise ValueError(f"object larger than {max_bytes} bytes")
    return bytes(answer["Body"].read(max_bytes + 1))


@contextmanager
def reading(bucket: str, key: str, max_bytes: int) -> Iterator[IO[bytes]]:
    """The object as a stream to read from, closed after the block; FileNotFoundError if there
    is no such object, ValueError if it is larger than `max_bytes`."""
    s3 = client("s3")
    try:
        answer = s3.get_object(Bucket=bucket, Key=key)
    except s3.exceptions.NoSuchKey as exc:
        raise FileNotFoundError(key) from exc
    body = answer["Body"]
    try:
        if int(answer.get("ContentLength", 0)) > max_bytes:
            raise ValueError(f"object larger than {max_bytes} bytes")
        yield body
    finally:
        body.close()


def delete(bucket: str, key: str) -> None:
    client("s3").delete_object(Bucket=bucket, Key=key)


def presigned_get(
    bucket: str, key: str, seconds: int | None = None, extra: dict[str, str] | None = None
) -> str:
    """A GET URL for one object that expires after `seconds` (settings' default if None)."""
    expires = seconds or get_settings().presign_seconds
    params = {"Bucket": bucket, "Key": key, **(extra or {})}
    return str(client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=expires))


def split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3 URI: {uri}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key
