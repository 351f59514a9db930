"""moto in this process, with the app's tables, buckets and the erasures queue: for tests of
services that need real AWS semantics (conditions, transactions) but no running stack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import moto

from chalicelib import resources
from chalicelib.models import TABLE_MODELS
from chalicelib.settings import get_settings


@contextmanager
def aws() -> Iterator[None]:
    """moto in this process, with the tables, buckets and queue the steps use."""
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    endpoint = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("AWS_ENDPOINT")}
    with moto.mock_aws():
        from chalicelib.adapters.aws import client

        client.cache_clear()
        for model in TABLE_MODELS:
            model.create_table(wait=True)
        s = get_settings()
        for bucket in resources.buckets(s):
            client("s3").create_bucket(Bucket=bucket)
        client("sqs").create_queue(QueueName=s.erasures_queue)
        try:
            yield
        finally:
            client.cache_clear()
    os.environ.update(endpoint)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
