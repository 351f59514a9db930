"""Scenario 4: a step killed between its writes converges on retry.

Each step of an image's life (submit, the model's result, the scan that publishes it, a report,
a moderator's removal) runs in a process of its own that dies right after its k-th write to AWS
was applied, and is then run again. What the retry leaves (every table item and every object
the step added, changed or removed, with ids and times abstracted) must equal what one
uninterrupted run leaves. `make chaos` kills each step after every write
(`OBJEKTIFY_CRASH_POINTS=all`); `make test` after its first, its last and one drawn between
them (the draw's seed is printed; `OBJEKTIFY_CRASH_SEED` repeats it). The stack runs without
its event pump, so that nothing but the step under test moves the image along, and with a
strike limit of one, so that the removal also suspends the creator automatically (the
restriction and its audit entry).
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.config import StackState, app_env
from tests.reliability import figures
from tests.support.aws import client, name, snapshot
from tests.support.client import sign_in
from tests.support.stack import running_stack
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
STEPS = ("submit", "result", "scan", "report", "remove")
ABSTRACT = [
    (re.compile(r'"sweep_shard": \{"S": "\d+"\}'), '"sweep_shard": <shard>'),
    (re.compile(r'"slot": \{"N": "\d+"\}'), '"slot": <quota slot>'),  # drawn at random
    (re.compile(r"feed#\d+"), "feed#<shard>"),
    (re.compile(r"(top#(?:all|day#[\d-]+|week#[\dW-]+))#\d+"), r"\1#<shard>"),
    (re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?"), "<time>"),
    (re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b"), "<id>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uuid>"),
    (re.compile(r"\b[0-9a-f]{32,64}\b"), "<hash>"),
    (re.compile(r"\b\d{10,}(?:\.\d+)?\b"), "<epoch>"),
]

# The stack's settings, which the steps' own processes read too.
SETTINGS = {
    "OBJEKTIFY_LOCAL_PUMP": "0",
    "OBJEKTIFY_REPORT_THRESHOLD": "5",
    "OBJEKTIFY_STRIKE_LIMIT": "1",
}


@pytest.fixture(scope="module")
def quiet_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackState]:
    with running_stack(Path(tmp_path_factory.mktemp("crash-points")), SETTINGS) as state:
        yield state


def step(state: StackState, what: str, *args: str, die_after: int | None = None) -> dict:
    env = {**os.environ, **app_env(state, Path(state.extra["dir"])), **SETTINGS}
    command = [sys.executable, "-m", "tests.support.crash_at_write", what, *args]
    if die_after is not None:
        command.append(f"--die-after={die_after}")
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if die_after is not None:
        assert done.returncode == 137, f"{what} did not die after write {die_after}: {done.stderr}"
        return {}
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


class Image:
    """One image taken through the steps, with the people involved."""

    def __init__(self, state: StackState) -> None:
        self.state = state
        owner = sign_in(state)
        owner.accept_current_terms()
        self.owner = str(owner.user_id)
        reporter = sign_in(state)
        reporter.accept_current_terms()  # reporting needs consent, like every user action
        self.reporter = str(reporter.user_id)
        self.moderator = str(sign_in(state, "moderators").user_id)
        self.key = str(uuid.uuid4())
        self.id = ""

    def args(self, what: str) -> list[str]:
        return {
            "submit": [self.owner, self.key, "a red kite over a hill"],
            "result": [self.id],
            "scan": [self.id],
            "report": [self.reporter, self.id],
            "remove": [self.moderator, self.id],
        }[what]

    def run(self, what: str, die_after: int | None = None) -> dict:
        out = step(self.state, what, *self.args(what), die_after=die_after)
        if what == "submit" and die_after is None:
            self.id = out["result"]
            self.wait_for_output()
        return out

    def wait_for_output(self) -> None:
        s3 = client(self.state, "s3")
        bucket = name(self.state, "originals")

        def written() -> bool:
            found = s3.list_objects_v2(Bucket=bucket, Prefix=f"outputs/{self.id}.png")
            return bool(found.get("KeyCount"))

        wait_for(written, timeout=60, what="the model's output")

    def abstract(self, text: str) -> str:
        for real, placeholder in (
            (self.owner, "<owner>"),
            (self.reporter, "<reporter>"),
            (self.moderator, "<moderator>"),
        ):
            text = text.replace(real, placeholder)
        for pattern, placeholder in ABSTRACT:
            text = pattern.sub(placeholder, text)
        return text


def counter_totals(items: list[str]) -> Counter:
    """The transparency report's day counters, summed over days and shards."""
    totals: Counter = Counter()
    for item in items:
        for counter, value in json.loads(item).items():
            if counter not in ("day", "shard"):
                totals[counter] += int(value["N"])
    return totals


def changes(image: Image, before: dict[str, list[str]], after: dict[str, list[str]]) -> Counter:
    """What a step added, changed or removed, abstracted; for the report's day counters, which
    every image's steps add to, what each counter gained (so a retry that counts twice shows)."""
    found: Counter = Counter()
    for where in set(before) | set(after):
        if where.endswith("-report-days"):
            gained = counter_totals(after.get(where, []))
            gained.subtract(counter_totals(before.get(where, [])))
            found.update(f"{where} {c} {n:+d}" for c, n in gained.items() if n)
            continue
        old, new = set(before.get(where, [])), set(after.get(where, []))
        for item in new - old:
            found[f"{where} + {image.abstract(item)}"] += 1
        for item in old - new:
            found[f"{where} - {image.abstract(item)}"] += 1
    return found


def baseline(state: StackState) -> tuple[dict[str, Counter], dict[str, int]]:
    """What each step changes when nothing dies, and how many writes it makes."""
    image = Image(state)
    effects, writes = {}, {}
    for what in STEPS:
        before = snapshot(state)
        writes[what] = len(image.run(what)["writes"])
        effects[what] = changes(image, before, snapshot(state))
    return effects, writes


def crash_points(writes: int, draw: random.Random) -> list[int]:
    """After which writes a step is killed: every one, or (sampled) the first, the last and
    one drawn between them."""
    every = list(range(1, writes + 1))
    if os.environ.get("OBJEKTIFY_CRASH_POINTS", "sample") == "all" or writes <= 3:
        return every
    return [1, draw.randint(2, writes - 1), writes]


def test_every_step_killed_after_each_write_converges_on_retry(quiet_stack: StackState) -> None:
    state = quiet_stack
    effects, writes = baseline(state)
    seed = int(os.environ.get("OBJEKTIFY_CRASH_SEED") or random.randrange(1 << 30))
    draw = random.Random(seed)
    divergent: list[str] = []
    runs = 0
    for what in STEPS:
        for k in crash_points(writes[what], draw):
            image = Image(state)
            for earlier in STEPS[: STEPS.index(what)]:
                image.run(earlier)
            before = snapshot(state)
            image.run(what, die_after=k)
            if what == "submit":
                time.sleep(1.5)  # the dead attempt's invocation is over: its start deadline passes
            image.run(what)
            runs += 1
            got = changes(image, before, snapshot(state))
            if got != effects[what]:
                extra = sorted((got - effects[what]).elements())[:3]
                missing = sorted((effects[what] - got).elements())[:3]
                divergent.append(
                    f"{what} killed after write {k} (OBJEKTIFY_CRASH_SEED={seed}): "
                    f"extra {extra} missing {missing}"
                )
    print(f"\ncrash points: {json.dumps(writes)} writes per step, {runs} killed runs (seed {seed})")
    for line in divergent:
        print("  " + line)
    figures.add(
        figures.Row(
            "4 crash mid-handler",
            operations=runs,
            anomalies=len(divergent),
            notes=[
                ", ".join(f"{what} {n} writes" for what, n in writes.items()),
                f"seed {seed}",
            ],
        )
    )
    assert divergent == []
