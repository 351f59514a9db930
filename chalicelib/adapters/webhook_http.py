"""One webhook POST, to an address already checked (services/webhook_guard.py).

It connects to that address itself (never resolving the name again), speaks TLS with the
host's name (SNI and certificate check), sends the request once and follows no redirect: a
3xx is an answer like any other. Outcomes are plain values for the delivery rules to judge.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass

RESPONSE_BYTES = 4096  # what is read of an answer: only its status matters


@dataclass(frozen=True)
class PostResult:
    status: int | None  # the HTTP status, or None when no answer came
    problem: str | None = None  # timeout | connection_error | tls_error


def post(
    scheme: str,
    host: str,
    port: int,
    address: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> PostResult:
    """POST `body` to `address`:`port` as `scheme://host/path`."""
    sock: socket.socket | None = None
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
        if scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        connection.sock = sock
        host_header = host if port in (80, 443) else f"{host}:{port}"
        if ":" in host and not host.startswith("["):
            host_header = f"[{host}]" if port in (80, 443) else f"[{host}]:{port}"
        connection.request("POST", path, body=body, headers={**headers, "Host": host_header})
        response = connection.getresponse()
        response.read(RESPONSE_BYTES)
        return PostResult(status=response.status)
    except TimeoutError:
        return PostResult(status=None, problem="timeout")
    except ssl.SSLError:
        return PostResult(status=None, problem="tls_error")
    except (OSError, http.client.HTTPException):
        return PostResult(status=None, problem="connection_error")
    finally:
        if sock is not None:
            sock.close()
