"""Schemathesis fuzzes the running stack from docs/openapi.yaml, once per kind of caller, with a
fixed example budget: no 5xx, every answer as the document says, and no error answer that leaks
a stack trace, an internal name or AWS's own error text."""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.security import figures
from tests.security.world import World
from tests.support.stack import server_errors

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = os.environ.get("OBJEKTIFY_FUZZ_EXAMPLES", "5")  # make security: 25
LEAKS = re.compile(
    r"Traceback|File \"|botocore|boto3|pynamodb|arn:aws|An error occurred \(|"
    r"dynamodb|ConditionalCheckFailed|chalicelib|/work/|Exception"
)
# Operations that would wreck the run for everyone after them, each covered by the
# authorization matrix and its own integration tests instead: DELETE /me erases the fuzzing
# user, PUT /admin/flags/{name} switches parts of the service off, POST /admin/terms revises
# the terms for every user. GET and PATCH /me, on the same path, are fuzzed.
EXCLUDED_PATHS = "^/admin/(flags/|terms)"
EXCLUDED_OPERATIONS = "DELETE /me"


def run_schemathesis(world: World, role: str, out: Path) -> dict:
    api = world.caller(role)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        str(ROOT / "docs" / "openapi.yaml"),
        "--url",
        world.state.api_url,
        "--max-examples",
        EXAMPLES,
        "--seed",
        "20261125",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_headers_conformance,response_schema_conformance,negative_data_rejection,"
        "unsupported_method",
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "2",
        "--no-color",
        "--suppress-health-check",
        "all",
        "--generation-with-security-parameters",
        "false",
        "--request-timeout",
        "30",
        "--report",
        "json,har",
        "--report-dir",
        str(out),
        "--generation-database",
        "none",
    ]
    command += ["--exclude-path-regex", EXCLUDED_PATHS, "--exclude-name", EXCLUDED_OPERATIONS]
    if role == "api_key":
        # A key is fuzzed on the operations it may call (docs/openapi.yaml lists the apiKey
        # scheme on them); the matrix holds its 403 everywhere else.
        from chalicelib.services.identity import KEY_ROUTES

        for method, path in sorted(KEY_ROUTES):
            command += ["--include-name", f"{method} {path}"]
    if api.token:
        command += ["--header", f"Authorization: Bearer {api.token}"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    (out / "output.txt").write_text(result.stdout + result.stderr)
    return {"rc": result.returncode, "out": result.stdout[-4000:]}


def leaks_in(har_dir: Path) -> tuple[int, int, list[str]]:
    """(requests sent, error answers seen, leaking answers) from the run's HAR."""
    sent, seen, leaks = 0, 0, []
    for file in glob.glob(str(har_dir / "har-*.json")):
        data = json.loads(Path(file).read_text())
        for entry in data.get("log", {}).get("entries", []):
            sent += 1
            response = entry["response"]
            if response["status"] < 400:
                continue
            seen += 1
            text = response.get("content", {}).get("text", "") or ""
            headers = " ".join(f"{h['name']}: {h['value']}" for h in response.get("headers", []))
            if LEAKS.search(text) or LEAKS.search(headers):
                leaks.append(
                    f"{entry['request']['method']} {entry['request']['url']}: {text[:200]}"
                )
    return sent, seen, leaks


@pytest.mark.parametrize("role", ["anonymous", "owner", "moderator", "admin", "api_key"])
def test_fuzzing_finds_no_server_error_and_no_contract_violation(
    world: World, role: str, tmp_path: Path
) -> None:
    world.shared("published")
    outcome = run_schemathesis(world, role, tmp_path)
    cases, seen, leaks = leaks_in(tmp_path)  # every request the fuzzer sent is a case
    failures = 0
    if outcome["rc"] != 0:
        failures = max(1, outcome["out"].count("❌"))
    figures.add("fuzz cases", cases, failures)
    figures.add("fuzzer error answers checked for leaks", seen, len(leaks))
    print(
        f"\nfuzzing as {role}: exit {outcome['rc']}, {cases} cases, {seen} error answers, "
        f"{len(leaks)} leaking"
    )
    assert leaks == [], "\n".join(leaks[:10])
    assert outcome["rc"] == 0, outcome["out"] + "\n" + server_errors(world.state)
