"""Secrets must never reach a log: bearer tokens, API keys, signing keys, presigned URL signatures,
hashed addresses. Scans the logs of every stack a test session started."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

JWT = re.compile(r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*")
PATTERNS = {
    "bearer token": JWT,
    "authorization header": re.compile(r"Bearer\s+[\w-]{10,}"),
    "personal API key": re.compile(r"objk_[\w-]{20,}"),
    # A WebSocket connect carries the access token in its query string (issue 18).
    "token query parameter": re.compile(r"[?&]token=[\w.%-]{10,}"),
    "presigned URL signature": re.compile(r"X-Amz-Signature=[0-9a-f]{16,}"),
    "hashed address or key-like hex": re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])"),
}


@dataclass
class ScanResult:
    lines: int = 0
    findings: list[str] = field(default_factory=list)


def scan(directories: list[Path]) -> ScanResult:
    result = ScanResult()
    for directory in directories:
        log = directory / "stack.log"
        if not log.exists():
            continue
        secrets = [p.read_text().strip() for p in directory.glob("*.secret")]
        for number, line in enumerate(log.read_text(errors="replace").splitlines(), 1):
            result.lines += 1
            for secret in secrets:
                if secret and secret in line:
                    result.findings.append(f"{log}:{number}: a signing or hashing key")
            for name, pattern in PATTERNS.items():
                if pattern.search(line):
                    result.findings.append(f"{log}:{number}: {name}: {line[:160]}")
    return result
