"""The moderation queue: handler time and DynamoDB requests for a 50-item page
(in-process against the local stack's emulator). Prints figures; asserts nothing."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

from support import counting_aws_calls, in_process_app, sign_in, stack, summary

ITEMS = 60
RUNS = 15


def seed_queue() -> None:
    from chalicelib.adapters import clock, ids
    from chalicelib.models.generations import IN_REVIEW, Generation
    from chalicelib.services.lifecycle import QUEUE, review_rank

    now = datetime.now(UTC)
    with Generation.batch_write() as batch:
        for i in range(ITEMS):
            gid = ids.new_id()
            batch.save(
                Generation(
                    gid,
                    owner_id="bench-user",
                    status=IN_REVIEW,
                    prompt=f"queued image {i}",
                    width=512,
                    height=512,
                    steps=4,
                    seed=i,
                    terms_version=1,
                    terms_sha256="0" * 64,
                    input_key=f"inputs/{gid}.json",
                    output_key=f"outputs/{gid}.png",
                    created_at=now,
                    updated_at=now,
                    category="violent",
                    review_shard=QUEUE,
                    review_rank=review_rank("violent", clock.iso(now)),
                )
            )


def main() -> None:
    from chalice.test import Client

    with stack() as state:
        moderator = sign_in(state, "moderators")
        app = in_process_app(state)
        seed_queue()
        headers = {"Authorization": f"Bearer {moderator.token}"}
        with Client(app) as client:  # type: ignore[arg-type]
            client.http.get("/moderation/queue?limit=50", headers=headers)  # warm
            times, per_page = [], []
            for _ in range(RUNS):
                with counting_aws_calls() as calls:
                    started = time.perf_counter()
                    answer = client.http.get("/moderation/queue?limit=50", headers=headers)
                    times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200 and len(answer.json_body["items"]) == 50
                per_page.append(calls)
    names = sorted({k for calls in per_page for k in calls})
    print(f"moderation queue page (50 items of {ITEMS} in review)")
    print(f"  handler time: {summary(times, 'ms')}")
    for name in names:
        print(
            f"  {name}: median {statistics.median(c.get(name, 0) for c in per_page):.0f} per page"
        )
    print(
        "  (one Query; the 50 audited views in two BatchWriteItem calls of at most 25;"
        " 50 presigned URLs computed locally, no request each)"
    )


if __name__ == "__main__":
    main()
