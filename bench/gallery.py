"""The public gallery: DynamoDB requests and handler time for a 24-item page of the sharded
feed, a `top` page of each period, a `q=` page of one and of three words, and a like and an
unlike (in-process against the local stack's emulator). Prints figures; asserts nothing."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

from support import consented_user, counting_aws_calls, in_process_app, stack, summary

ENTRIES = 200
RUNS = 30
COLOURS = ("red", "blue", "green")
ANIMALS = ("fox", "owl", "cat", "dog")


def seed_feed() -> None:
    from chalicelib.adapters import ids
    from chalicelib.models.gallery import (
        GalleryEntry,
        TermEntry,
        creator_partition,
        feed_partition,
        term_partition,
    )
    from chalicelib.services import publishing, search
    from chalicelib.settings import get_settings

    shards = get_settings().feed_shards
    start = datetime.now(UTC) - timedelta(hours=1)
    with GalleryEntry.batch_write() as batch:
        for i in range(ENTRIES):
            image_id = ids.new_id()
            at = start + timedelta(seconds=i)
            sk = f"{at.isoformat(timespec='milliseconds').replace('+00:00', 'Z')}#{image_id}"
            prompt = f"bench {COLOURS[i % 3]} {ANIMALS[i % 4]} number {i}"
            likes = (i * 7919) % 50
            for rank in publishing.rank_entries(image_id, at, likes):
                batch.save(rank)
            words = search.words_of(prompt)
            for word in words:
                batch.save(TermEntry(term_partition(word), image_id, entry_sk=sk, words=words))
            for pk in (feed_partition(image_id, shards), creator_partition("bench-user")):
                batch.save(
                    GalleryEntry(
                        pk,
                        sk,
                        image_id=image_id,
                        creator_id="bench-user",
                        prompt=prompt,
                        likes=likes,
                        width=512,
                        height=512,
                        created_at=at,
                        published_at=at,
                    )
                )


def _page_figures(client: object, path: str) -> tuple[list[float], list[int], dict[str, int]]:
    """Handler time and DynamoDB requests of RUNS pages of `path`, following its cursor."""
    times, requests, kinds = [], [], {}
    cursor = ""
    client.http.get(path)  # type: ignore[attr-defined]  # warm
    for _ in range(RUNS):
        with counting_aws_calls() as calls:
            started = time.perf_counter()
            answer = client.http.get(f"{path}{cursor}")  # type: ignore[attr-defined]
            times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.body
        dynamo = {k: v for k, v in calls.items() if k.startswith("dynamodb")}
        requests.append(sum(dynamo.values()))
        kinds = dynamo
        body = answer.json_body
        cursor = f"&cursor={body['next_cursor']}" if body["next_cursor"] else ""
    return times, requests, kinds


def _like_figures(
    client: object, token: str, image_id: str
) -> dict[str, tuple[list[float], list[int], dict[str, int]]]:
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, tuple[list[float], list[int], dict[str, int]]] = {}
    for method in ("PUT", "DELETE"):
        out[method] = ([], [], {})
    for _ in range(RUNS):
        for method in ("PUT", "DELETE"):
            with counting_aws_calls() as calls:
                started = time.perf_counter()
                answer = client.http.request(method, f"/gallery/{image_id}/like", headers=headers)  # type: ignore[attr-defined]
                elapsed = (time.perf_counter() - started) * 1000
            assert answer.status_code == 204, answer.body
            dynamo = {k: v for k, v in calls.items() if k.startswith("dynamodb")}
            out[method][0].append(elapsed)
            out[method][1].append(sum(dynamo.values()))
            out[method][2].clear()
            out[method][2].update(dynamo)
    return out


def main() -> None:
    from chalice.test import Client

    from tests.support.client import publish_one

    figures = {}
    with stack() as state:
        creator, fan = consented_user(state), consented_user(state)
        image_id = publish_one(creator, "a bench lantern")["id"]
        app = in_process_app(state)
        seed_feed()
        with Client(app) as client:  # type: ignore[arg-type]
            client.http.get("/gallery?limit=24")  # warm: switches' cache, connections
            for label, path in (
                ("new", "/gallery?limit=24"),
                ("top day", "/gallery?sort=top&period=day&limit=24"),
                ("top week", "/gallery?sort=top&period=week&limit=24"),
                ("top all", "/gallery?sort=top&period=all&limit=24"),
                ("q= one word", "/gallery?q=fox&limit=24"),
                ("q= three words", "/gallery?q=red+fox+bench&limit=24"),
            ):
                figures[label] = _page_figures(client, path)
            likes = _like_figures(client, str(fan.token), image_id)
        from chalicelib.settings import get_settings

        shards = get_settings().feed_shards
    print(f"gallery pages (24 items, {shards} shards, {ENTRIES} seeded images)")
    for label, (times, requests, kinds) in figures.items():
        print(
            f"  {label}: p50 {statistics.median(times):.1f} ms ({summary(times, 'ms')}); "
            f"DynamoDB requests per page: median {statistics.median(requests):.0f} {kinds}"
        )
    for method, (times, requests, kinds) in likes.items():
        print(
            f"  {method} like: p50 {statistics.median(times):.1f} ms; DynamoDB requests: "
            f"median {statistics.median(requests):.0f} {kinds}"
        )


if __name__ == "__main__":
    main()
