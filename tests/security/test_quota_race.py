"""No race lets a user past the rolling-window quota, and none makes submits wait for each
other: 50 submits at once, 25 in flight, against a quota of 30."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.security import figures
from tests.security.world import consented
from tests.support.stack import running_stack


def test_fifty_parallel_submits_take_exactly_the_quota(tmp_path: Path) -> None:
    with running_stack(
        tmp_path / "quota",
        {"OBJEKTIFY_QUOTA_LIMIT": "30", "OBJEKTIFY_LOCAL_INFERENCE_URL": "http://127.0.0.1:9"},
    ) as state:
        user = consented(state)

        def submit(i: int) -> int:
            return user.post("/generations", json={"prompt": f"a race {i}"}).status_code

        with ThreadPoolExecutor(max_workers=25) as pool:
            statuses = list(pool.map(submit, range(50)))
        accepted = statuses.count(202)
        stored = len(user.get("/me/generations?limit=100").json()["items"])
        refused = user.post("/generations", json={"prompt": "one more"})
    print(f"\nquota race: 50 parallel submits, {accepted} accepted (limit 30), {stored} stored")
    assert set(statuses) <= {202, 429}, statuses
    # Exact both ways: never past the limit, and no submit refused while a unit was free.
    assert accepted == 30
    assert stored == accepted
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    figures.add("parallel submits past the quota", 50, max(0, accepted - 30))
