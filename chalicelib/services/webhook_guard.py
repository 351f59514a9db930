"""Which URLs a webhook may reach (the SSRF guard): the one place that decides.

A webhook URL is fetched by the service, from inside its network, so a URL must never lead to
an address the public could not reach itself: private ranges, loopback, link-local (the
instance metadata service, 169.254.169.254 and fd00:ec2::254), shared, reserved, multicast.
The rule is applied to the addresses the host resolves to, every one of them, when the URL is
saved and again at each delivery (a name may resolve elsewhere later: DNS rebinding), and the
delivery connects to the address that was checked, never to the name again, and follows no
redirect (adapters/webhook_http.py).

In AWS only `https` is allowed. `make dev` and the test stacks set
`webhook_allow_loopback_http`, which additionally allows loopback addresses, over `http` too,
so a developer can receive on their own machine; other private addresses stay refused.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from chalicelib.settings import get_settings

MAX_URL_LENGTH = 2048
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedTarget(Exception):
    """The URL may not be called; `reason` says why in words a user can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to `address`, speak to `host` (Host header, TLS name)."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    address: str


def _public(address: Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return _public(mapped)
    return address.is_global and not address.is_multicast


def allowed_address(address: Address, allow_loopback: bool) -> bool:
    return _public(address) or (allow_loopback and address.is_loopback)


def _resolve(host: str, port: int) -> list[Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise RefusedTarget("the host name does not resolve") from exc
    found: list[Address] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # an IPv6 zone id is no part of the address
        address = ipaddress.ip_address(text)
        if address not in found:
            found.append(address)
    if not found:
        raise RefusedTarget("the host name does not resolve")
    return found


def check(url: str, allow_loopback: bool | None = None) -> Target:
    """The target of `url` if a webhook may call it; RefusedTarget otherwise. Resolves the
    host (DNS) every time it is called."""
    if allow_loopback is None:
        allow_loopback = get_settings().webhook_allow_loopback_http
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise RefusedTarget(f"must be a URL of at most {MAX_URL_LENGTH} characters")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise RefusedTarget("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedTarget("is not a valid URL") from exc
    scheme = parts.scheme.lower()
    allowed_schemes = ("https", "http") if allow_loopback else ("https",)
    if scheme not in allowed_schemes:
        raise RefusedTarget("must be an https URL")
    if parts.username is not None or parts.password is not None:
        raise RefusedTarget("must not carry a user name or password")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise RefusedTarget("must name a host")
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port)
    for address in addresses:
        if not allowed_address(address, allow_loopback):
            raise RefusedTarget("must not lead to a private, loopback or link-local address")
    if scheme == "http" and not all(a.is_loopback for a in addresses):
        raise RefusedTarget("must be an https URL (plain http only to this machine)")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))
