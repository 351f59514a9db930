"""Webhooks without a network: the SSRF guard's rule, the signature, the retry schedule, and
the queue position's arithmetic."""

from __future__ import annotations

import hashlib
import hmac
import socket
from typing import Any

import pytest

from chalicelib.services import queue_position, webhook_guard, webhooks
from chalicelib.settings import Settings

REFUSED_EVERYWHERE = [
    "http://10.0.0.1/hook",
    "https://10.0.0.1/hook",
    "https://172.16.5.4/hook",
    "https://192.168.1.10/hook",
    "https://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/",
    "https://[fd00:ec2::254]/latest",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[fe80::1]/hook",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "ftp://93.184.216.34/hook",
    "file:///etc/passwd",
    "https://user:pass@93.184.216.34/hook",
    "https:///nohost",
    "https://93.184.216.34/ hook",
    "",
    "https://" + "a" * 2050 + ".example/",
]


@pytest.mark.parametrize("url", REFUSED_EVERYWHERE)
@pytest.mark.parametrize("allow_loopback", [False, True])
def test_private_and_odd_urls_are_refused_in_both_worlds(url: str, allow_loopback: bool) -> None:
    with pytest.raises(webhook_guard.RefusedTarget):
        webhook_guard.check(url, allow_loopback=allow_loopback)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/hook", "https://127.0.0.1/hook", "http://[::1]:9000/"]
)
def test_loopback_is_refused_in_aws_and_allowed_for_a_developer(url: str) -> None:
    with pytest.raises(webhook_guard.RefusedTarget):
        webhook_guard.check(url, allow_loopback=False)
    target = webhook_guard.check(url, allow_loopback=True)
    assert target.address in ("127.0.0.1", "::1")


def test_the_aws_mode_setting_is_the_default() -> None:
    assert Settings().webhook_allow_loopback_http is False


def test_a_public_https_url_is_allowed_and_plain_http_is_not() -> None:
    target = webhook_guard.check("https://93.184.216.34:8443/in?x=1", allow_loopback=False)
    assert (target.scheme, target.address, target.port, target.path) == (
        "https",
        "93.184.216.34",
        8443,
        "/in?x=1",
    )
    with pytest.raises(webhook_guard.RefusedTarget):
        webhook_guard.check("http://93.184.216.34/in", allow_loopback=True)


def test_a_name_is_refused_if_any_address_it_resolves_to_is_private(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def resolve(host: str, port: int, **_: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(webhook_guard.RefusedTarget):
        webhook_guard.check("https://rebinding.example/hook", allow_loopback=False)


def test_a_name_that_does_not_resolve_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolve(*_: Any, **__: Any) -> list[Any]:
        raise socket.gaierror("no such name")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(webhook_guard.RefusedTarget):
        webhook_guard.check("https://nowhere.example/hook", allow_loopback=False)


def test_the_signature_is_hmac_sha256_of_time_dot_body() -> None:
    body = b'{"id":"x","status":"published"}'
    header = webhooks.sign("whsec_test", 1_700_000_000, body)
    t, v1 = (part.split("=", 1)[1] for part in header.split(","))
    expected = hmac.new(b"whsec_test", f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert t == "1700000000"
    assert hmac.compare_digest(v1, expected)
    assert webhooks.sign("whsec_other", 1_700_000_000, body) != header


def test_the_default_retries_last_more_than_an_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "get_settings", lambda: Settings())
    waits = [webhooks.backoff_seconds(n) for n in range(1, Settings().webhook_max_attempts)]
    assert waits == sorted(waits) and waits[0] < waits[-1]
    assert webhooks.retry_window_seconds() > 3600
    assert max(waits) <= 43_200  # SQS's longest visibility timeout


def test_an_event_has_one_id_however_often_it_is_seen() -> None:
    first = webhooks.event_id_of("g1", "published", "2026-01-01T00:00:00.000Z")
    assert first == webhooks.event_id_of("g1", "published", "2026-01-01T00:00:00.000Z")
    assert first != webhooks.event_id_of("g1", "removed", "2026-01-02T00:00:00.000Z")


def test_positions_count_from_the_finished_counter(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.models.generations import QUEUED, Generation

    monkeypatch.setattr(queue_position, "_counters", lambda: (10, 0))
    queued = [Generation(f"g{n}", status=QUEUED, queue_ticket=10 + n) for n in range(1, 4)]
    positions = [queue_position.position_of(g) for g in queued]
    default = Settings().queue_default_job_seconds
    assert positions == [{"position": n, "eta_seconds": n * default} for n in (1, 2, 3)]
    # One that finished out of order leaves the first at 1, never 0.
    monkeypatch.setattr(queue_position, "_counters", lambda: (12, 30))
    assert queue_position.position_of(queued[0]) == {"position": 1, "eta_seconds": 10}
    assert queue_position.position_of(Generation("g9", status="scanning", queue_ticket=5)) is None
