"""S3: put and read objects (whole, or streamed a part at a time), presigned URLs."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
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


# S3's smallest part but the last is 5 MiB; a writer holds at most one part.
PART_BYTES = 8 * 1024 * 1024


class ObjectWriter(io.RawIOBase):
    """A write-only stream that becomes one S3 object through a multipart upload, sent a part
    at a time: however large the object, no more than one part is held in memory and nothing
    touches the disk. Closing it completes the object; `abort()`, or leaving its `with` block
    by an exception, discards the parts sent and leaves no object."""

    def __init__(
        self, bucket: str, key: str, content_type: str, part_bytes: int = PART_BYTES
    ) -> None:
        super().__init__()
        self._s3 = client("s3")
        self._target = {"Bucket": bucket, "Key": key}
        self._part_bytes = part_bytes
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._aborted = False
        answer = self._s3.create_multipart_upload(**self._target, ContentType=content_type)
        self._target["UploadId"] = answer["UploadId"]

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed ObjectWriter")
        view = memoryview(data).cast("B")
        self._buffer += view
        while len(self._buffer) >= self._part_bytes:
            part = bytes(self._buffer[: self._part_bytes])
            del self._buffer[: self._part_bytes]
            self._send(part)
        return view.nbytes

    @property
    def buffered(self) -> int:
        """Bytes written but not yet sent (never more than one part)."""
        return len(self._buffer)

    def _send(self, part: bytes) -> None:
        number = len(self._parts) + 1
        answer = self._s3.upload_part(**self._target, PartNumber=number, Body=part)
        self._parts.append({"ETag": answer["ETag"], "PartNumber": number})

    def abort(self) -> None:
        if not self._aborted:
            self._aborted = True
            self._buffer.clear()
            self._s3.abort_multipart_upload(**self._target)

    def close(self) -> None:
        if self.closed:
            return
        try:
            if not self._aborted:
                if self._buffer or not self._parts:
                    self._send(bytes(self._buffer))
                    self._buffer.clear()
                self._s3.complete_multipart_upload(
                    **self._target, MultipartUpload={"Parts": self._parts}
                )
        except BaseException:
            self.abort()
            raise
        finally:
            super().close()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is not None:
            self.abort()
        self.close()


def exists(bucket: str, key: str) -> bool:
    """Whether the object is there (a HEAD request)."""
    from botocore.exceptions import ClientError

    try:
        client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            return False
        raise
    return True


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
