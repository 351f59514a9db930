"""The public gallery: DynamoDB requests and handler time for a 24-item page of the sharded
feed (in-process against the local stack's emulator). Prints figures; asserts nothing."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

from support import counting_aws_calls, in_process_app, stack, summary

ENTRIES = 200
RUNS = 30


def seed_feed() -> None:
    from chalicelib.adapters import ids
    from chalicelib.models.gallery import GalleryEntry, creator_partition, feed_partition
    from chalicelib.settings import get_settings

    shards = get_settings().feed_shards
    start = datetime.now(UTC) - timedelta(hours=1)
    with GalleryEntry.batch_write() as batch:
        for i in range(ENTRIES):
            image_id = ids.new_id()
            at = start + timedelta(seconds=i)
            sk = f"{at.isoformat()}#{image_id}"
            for pk in (feed_partition(image_id, shards), creator_partition("bench-user")):
                batch.save(
                    GalleryEntry(
                        pk,
                        sk,
                        image_id=image_id,
                        creator_id="bench-user",
                        prompt=f"bench image {i}",
                        width=512,
                        height=512,
                        created_at=at,
                        published_at=at,
                    )
                )


def main() -> None:
    from chalice.test import Client

    with stack() as state:
        app = in_process_app(state)
        seed_feed()
        with Client(app) as client:  # type: ignore[arg-type]
            client.http.get("/gallery?limit=24")  # warm: switches' cache, connections
            times, requests_per_page = [], []
            cursor = ""
            for _ in range(RUNS):
                with counting_aws_calls() as calls:
                    started = time.perf_counter()
                    answer = client.http.get(f"/gallery?limit=24{cursor}")
                    times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200
                requests_per_page.append(
                    sum(v for k, v in calls.items() if k.startswith("dynamodb"))
                )
                body = answer.json_body
                cursor = f"&cursor={body['next_cursor']}" if body["next_cursor"] else ""
        from chalicelib.settings import get_settings

        shards = get_settings().feed_shards
    print(f"gallery feed page (24 items, {shards} shards, {ENTRIES} entries)")
    print(f"  handler time: {summary(times, 'ms')}")
    print(
        f"  DynamoDB requests per page: median {statistics.median(requests_per_page):.0f} "
        f"(one consistent Query per shard, run in parallel; presigned URLs need no request)"
    )


if __name__ == "__main__":
    main()
