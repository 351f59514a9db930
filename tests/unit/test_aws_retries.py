"""Every AWS client, PynamoDB's table connections included, retries with the configured mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
from chalicelib.adapters.aws import client
from chalicelib.models.base import _connection
from chalicelib.models.generations import Generation
from chalicelib.models.users import UserProfile
for c in (client("sqs"), _connection().client, Generation._get_connection().connection.client,
          UserProfile._get_connection().connection.client):
    print(c.meta.config.retries["mode"], c.meta.config.retries["total_max_attempts"])
"""


def test_pynamodb_and_boto3_clients_share_the_configured_retry_mode() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "OBJEKTIFY_AWS_RETRY_MODE": "adaptive",
        "OBJEKTIFY_AWS_MAX_ATTEMPTS": "6",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:4] == ["adaptive 7"] * 4
