"""The data export: one in progress per user, and an archive streamed, never held whole."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import IO, Any

import pytest

from chalicelib.adapters import clock, storage
from chalicelib.adapters.aws import client
from chalicelib.models.exports import IN_PROGRESS_KEY, PENDING, READY, Export
from chalicelib.services import data_export, export_archive
from chalicelib.settings import get_settings
from tests.support.in_process_aws import aws

MIB = 1024 * 1024


class Unseekable(io.RawIOBase):
    """A sink that can only be appended to (as a multipart upload), noting its largest write."""

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()
        self.largest_write = 0

    def writable(self) -> bool:
        return True

    def write(self, chunk: Any) -> int:
        size = memoryview(chunk).nbytes
        self.largest_write = max(self.largest_write, size)
        self.data += chunk
        return size


def test_the_archive_reads_each_image_once_and_alone_and_never_seeks_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    images = {f"img{n}": os.urandom(3 * MIB) for n in range(3)}
    events: list[str] = []

    @contextmanager
    def reading(bucket: str, key: str, max_bytes: int) -> Iterator[IO[bytes]]:
        events.append(f"open {key}")
        yield io.BytesIO(images[key])
        events.append(f"close {key}")

    data = {"profile": {"user_id": "u"}, "generations": []}
    monkeypatch.setattr(export_archive, "collect", lambda user_id: (data, [(k, k) for k in images]))
    monkeypatch.setattr(storage, "reading", reading)
    sink = Unseekable()

    export_archive.write_archive("u", sink)

    assert events == [f"{step} {k}" for k in images for step in ("open", "close")]
    # Copied through in chunks: no write carries a whole image.
    assert sink.largest_write <= export_archive.COPY_CHUNK_BYTES + 64 * 1024
    archive = zipfile.ZipFile(io.BytesIO(bytes(sink.data)))
    assert archive.testzip() is None
    for key, content in images.items():
        assert archive.read(f"images/{key}.png") == content
    assert archive.getinfo("images/img0.png").compress_type == zipfile.ZIP_STORED


def test_an_object_writer_holds_at_most_one_part_and_uploads_the_whole() -> None:
    with aws():
        bucket = get_settings().exports_bucket
        content = os.urandom(12 * MIB + 12345)
        most = 0
        with storage.ObjectWriter(bucket, "exports/u/x.zip", "application/zip", 5 * MIB) as out:
            for start in range(0, len(content), 256 * 1024):
                out.write(content[start : start + 256 * 1024])
                most = max(most, out.buffered)
        assert most < 5 * MIB
        s3 = client("s3")
        stored = s3.get_object(Bucket=bucket, Key="exports/u/x.zip")
        assert stored["ContentType"] == "application/zip"
        assert stored["Body"].read() == content


def test_an_object_writer_left_by_an_error_leaves_no_object_and_no_parts() -> None:
    with aws():
        bucket = get_settings().exports_bucket
        with (
            pytest.raises(RuntimeError),
            storage.ObjectWriter(bucket, "exports/u/y.zip", "application/zip", 5 * MIB) as out,
        ):
            out.write(os.urandom(6 * MIB))
            raise RuntimeError("the archive failed")
        s3 = client("s3")
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="exports/u/")
        assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


@contextmanager
def exports_world() -> Iterator[None]:
    with aws():
        client("sqs").create_queue(QueueName=get_settings().exports_queue)
        yield


def test_a_user_has_one_export_in_progress_until_it_is_ready() -> None:
    with exports_world():
        first = data_export.request_export("u1")
        assert data_export.request_export("u1") == first
        assert data_export.request_export("u2") != first
        exports = [e for e in Export.query("u1") if e.export_id != IN_PROGRESS_KEY]
        assert [(e.export_id, e.status) for e in exports] == [(first, PENDING)]

        assert data_export.run_export("u1", first) == READY
        assert data_export.pending_export("u1") is None
        second = data_export.request_export("u1")
        assert second != first
        assert Export.get("u1", second).status == PENDING


def test_an_export_that_never_finished_stops_holding_the_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with exports_world():
        stuck = data_export.request_export("u1")
        later = clock.now() + timedelta(seconds=get_settings().export_pending_seconds + 1)
        monkeypatch.setattr(clock, "now", lambda: later)
        fresh = data_export.request_export("u1")
        assert fresh != stuck
        assert data_export.request_export("u1") == fresh
        # The stuck one, should it finish after all, is ready without freeing the new one's place.
        assert data_export.run_export("u1", stuck) == READY
        assert data_export.pending_export("u1") == fresh


def test_an_export_whose_message_was_not_sent_frees_the_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with exports_world():
        sqs = client("sqs")

        def refuse(**kwargs: Any) -> None:
            raise RuntimeError("queue unavailable")

        monkeypatch.setattr(sqs, "send_message", refuse)
        with pytest.raises(RuntimeError):
            data_export.request_export("u1")
        assert list(Export.query("u1")) == []
        monkeypatch.undo()
        assert data_export.request_export("u1")
