"""Flat cost as the service grows: the DynamoDB requests, the items they read and the time of a
gallery page, a creator's page, a moderation-queue page and the transparency report, with 1,000,
10,000 and 100,000 published images in the tables. Prints figures; asserts nothing.

The tables are filled directly through the models (batch writes from a few threads) against the
emulator alone (`support.tables()`), growing from one size to the next. Around the published
images, a share of other states as the service sees them: failed generations, scan rejections
and removals with their statements of reasons (some appealed), images in review, reported and
noticed images in the queue, work in flight. Every page is read by calling the service function
its API route calls, as the route does, and counted in this process.

    .venv/bin/python bench/scale.py [--sizes 1000,10000,100000] [--runs 3] [--threads 3]

About ten minutes on 2 shared cores (the fill of 100,000 images five, the calls at that size
four), so `make bench` leaves it out. The requests and the items read are DynamoDB's figures;
the times are the emulator's, whose Query walks every item of the table (the "emulator floor"
rows: a Query that finds nothing), so they grow with the table where DynamoDB's would not.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb import settings as pynamodb_settings
from support import counting_aws_calls, percentile, tables

PAGE = 24  # the API's default page size
CHUNK = 100  # published images per batch-writing job
SPACING = timedelta(seconds=20)  # between two published images: 100,000 in 23 days
MODERATOR = "bench-moderator"
TOP_CREATOR = "user-000000"  # the skew of `owner_of` makes the first user the most prolific
# Per published image, the chance of each other thing the tables hold beside it.
FAILED = 0.03  # a generation that failed (no image)
REJECTED = 0.02  # refused by the scan, with its statement of reasons
REMOVED = 0.01  # removed by a moderator after reports, with its statement
IN_REVIEW = 0.01  # held by the scan for a moderator (the queue)
IN_FLIGHT = 0.002  # queued or scanning right now
REPORTED = 0.005  # published, with reports awaiting a decision (the queue)
NOTICED = 0.001  # published, with a notice awaiting a decision (the queue)
APPEALED = 0.1  # of statements: appealed (half still open)
NOTICE_ON_REMOVAL = 0.3  # of removals: decided on a notice


def users_for(published: int) -> int:
    """How many creators the service has when it holds `published` images."""
    return max(50, published // 25)


def owner_of(rng: random.Random, index: int) -> str:
    # Skewed: the earliest users made the most images, as on any such site.
    return f"user-{int(rng.random() ** 3 * users_for(index + 1)):06d}"


@dataclass
class Filler:
    """Writes published image number `index` and whatever else the mix puts beside it."""

    newest: datetime
    total: int

    def moment(self, index: int) -> datetime:
        return self.newest - (self.total - index) * SPACING

    def write(self, start: int, end: int) -> None:
        from chalicelib.models import GalleryEntry, Generation, Notice, Report, Statement

        with (
            Generation.batch_write() as generations,
            GalleryEntry.batch_write() as entries,
            Report.batch_write() as reports,
            Statement.batch_write() as statements,
            Notice.batch_write() as notices,
        ):
            batches: dict[type, Any] = {
                Generation: generations,
                GalleryEntry: entries,
                Report: reports,
                Statement: statements,
                Notice: notices,
            }
            written = []
            for index in range(start, end):
                for item in self.items(index, random.Random(index)):
                    batches[type(item)].save(item)
                    written.append(item)
        self.count_days(written)

    def count_days(self, written: list[Any]) -> None:
        """The transparency report's day counters of what was written, as the services'
        transactions add them (one UpdateItem per day and chunk here)."""
        from pynamodb.expressions.operand import Path

        from chalicelib.models import Notice, ReportDay, Statement
        from chalicelib.models import report_days as report_days_model
        from chalicelib.models.statements import REVERSED, UPHELD
        from chalicelib.services import report_days

        days: dict[str, Counter[str]] = defaultdict(Counter)

        def on(moment: datetime) -> Counter[str]:
            return days[moment.date().isoformat()]

        for item in written:
            if isinstance(item, Statement):
                on(item.created_at).update(report_days.decision_counters(item))
                if item.appealed_at is not None:
                    on(item.appealed_at).update(["appeals.received"])
                if item.appeal_decided_at is not None and item.appeal_outcome in (UPHELD, REVERSED):
                    on(item.appeal_decided_at).update([f"appeals.{item.appeal_outcome}"])
            elif isinstance(item, Notice):
                on(item.created_at).update(report_days.notice_counters(item))
                if item.decided_at is not None:
                    on(item.decided_at).update([report_days.wait_counter(item, item.decided_at)])
        for day, counts in days.items():
            ReportDay(day, random.randrange(report_days_model.SHARDS)).update(
                actions=[Path([name]).add(n) for name, n in counts.items()]
            )

    def items(self, index: int, rng: random.Random) -> list[Any]:
        from chalicelib.models import generations as states
        from chalicelib.services import lifecycle, publishing

        at = self.moment(index)
        owner = owner_of(rng, index)
        image = self.generation(rng, owner, states.PUBLISHED, at - timedelta(seconds=15))
        image.published_at = at
        out: list[Any] = [image]
        if rng.random() < REPORTED:
            out += self.reports(rng, image, at)
        elif rng.random() < NOTICED:
            out += self.open_notice(rng, image, at)
        out += publishing.entries(image, at)
        if rng.random() < FAILED:
            failed = self.generation(rng, owner, states.FAILED, at - timedelta(seconds=5))
            failed.error = "the model did not answer in time"
            out.append(failed)
        if rng.random() < REJECTED:
            category = rng.choice(("sexual", "violent", "hateful"))
            rejected = self.generation(rng, owner, states.REJECTED, at - timedelta(seconds=4))
            rejected.category = category
            rejected.scan_result = scan(category)
            out += [rejected, self.statement(rng, rejected, category, at, automated=True)]
        if rng.random() < REMOVED:
            category = rng.choice(("violent", "hateful", "copyright", "privacy", "other"))
            removed = self.generation(rng, owner, states.REMOVED, at - timedelta(seconds=3))
            removed.category = category
            statement = self.statement(rng, removed, category, at, automated=False)
            out += [removed, statement]
            if rng.random() < NOTICE_ON_REMOVAL:
                notice = self.notice(rng, removed, at)
                notice.status, notice.decided_at = "decided", at + timedelta(hours=5)
                notice.outcome, notice.statement_id = "removed", statement.statement_id
                out.append(notice)
        if rng.random() < IN_REVIEW:
            category = rng.choice(("illegal", "sexual", "hateful", "violent"))
            held = self.generation(rng, owner, states.IN_REVIEW, at - timedelta(seconds=2))
            held.category, held.scan_result = category, scan(category)
            held.review_shard = lifecycle.QUEUE
            held.review_rank = lifecycle.review_rank(category, iso(held.created_at))
            out.append(held)
        if rng.random() < IN_FLIGHT:
            queued = self.generation(rng, owner, states.QUEUED, at - timedelta(seconds=1))
            queued.deadline_at = at + timedelta(minutes=2)
            queued.sweep_shard = str(rng.randrange(4))
            out.append(queued)
        return out

    def generation(self, rng: random.Random, owner: str, status: str, at: datetime) -> Any:
        from chalicelib.adapters import ids
        from chalicelib.models.generations import Generation, ModelRef

        gid = ids.new_id(int(at.timestamp() * 1000))
        return Generation(
            gid,
            owner_id=owner,
            status=status,
            prompt=f"a {rng.choice(WORDS)} {rng.choice(WORDS)} in the style of {rng.choice(WORDS)}",
            width=512,
            height=512,
            steps=25,
            seed=rng.randrange(2**31),
            terms_version=1,
            terms_sha256="0" * 64,
            input_key=f"inputs/{gid}.json",
            output_key=f"outputs/{gid}.png",
            created_at=at,
            updated_at=at,
            model=ModelRef(name="objektify-tiny-local", version="1"),  # type: ignore[no-untyped-call]
        )

    def reports(self, rng: random.Random, image: Any, at: datetime) -> list[Any]:
        from chalicelib.models.reports import REASONS, Report
        from chalicelib.services import lifecycle

        filed = [
            Report(
                image.generation_id,
                f"user-{rng.randrange(users_for(self.total)):06d}",
                reason=rng.choice(REASONS),
                created_at=at + timedelta(minutes=n + 1),
            )
            for n in range(rng.randint(1, 3))
        ]
        reasons = {r.reason for r in filed}
        image.report_count, image.report_reasons = len(filed), reasons
        image.review_shard = lifecycle.QUEUE
        image.review_rank = lifecycle.review_rank(
            lifecycle.most_severe(reasons), iso(image.created_at)
        )
        return filed

    def open_notice(self, rng: random.Random, image: Any, at: datetime) -> list[Any]:
        from chalicelib.services import lifecycle

        notice = self.notice(rng, image, at)
        image.notice_count, image.notice_categories = 1, {notice.category}
        image.open_notice_ids = {notice.notice_id}
        image.review_shard = lifecycle.QUEUE
        image.review_rank = lifecycle.review_rank(
            lifecycle.most_severe({notice.category}), iso(image.created_at)
        )
        return [notice]

    def notice(self, rng: random.Random, image: Any, at: datetime) -> Any:
        from chalicelib.adapters import ids
        from chalicelib.models.notices import CATEGORIES, Notice

        return Notice(
            ids.new_id(int(at.timestamp() * 1000)),
            image_id=image.generation_id,
            category=rng.choice(CATEGORIES),
            explanation="This image shows my work without my permission.",
            good_faith=True,
            created_at=at + timedelta(hours=1),
        )

    def statement(
        self, rng: random.Random, image: Any, category: str, at: datetime, *, automated: bool
    ) -> Any:
        from chalicelib.models.statements import DECIDED, OPEN, SOURCE_REPORT, UPHELD
        from chalicelib.services import statements

        statement = statements.about_content(
            image,
            decided_by="policy" if automated else MODERATOR,
            category=category,
            explanation=f"The image was found to be {category}.",
            facts="Flagged by the automated scan." if automated else "Reported by users.",
            automated_detection=True,
            automated_decision=automated,
            **({} if automated else {"source": SOURCE_REPORT}),
        )
        decided = at + timedelta(minutes=30)
        statement.created_at = decided
        statement.sk = f"{iso(decided)}#{statement.statement_id}"
        if rng.random() < APPEALED:
            statement.appeal_explanation = "I made it myself; it breaks no rule."
            statement.appealed_at = decided + timedelta(days=1)
            if rng.random() < 0.5:
                statement.appeal_status, statement.appeal_queue = OPEN, "open"
                statement.appealed_sk = f"{iso(statement.appealed_at)}#{statement.statement_id}"
            else:
                statement.appeal_status, statement.appeal_outcome = DECIDED, UPHELD
                statement.appeal_decided_at = decided + timedelta(days=2)
                statement.appeal_decided_by = MODERATOR
                statement.appeal_reason = "The decision stands."
        return statement


WORDS = (
    "lighthouse",
    "fox",
    "city at night",
    "mountain lake",
    "robot",
    "garden",
    "watercolour",
    "woodcut",
    "Hokusai",
    "Vermeer",
    "cyberpunk",
    "bauhaus",
)


def scan(category: str) -> dict[str, Any]:
    return {"scanner": "local", "outcome": "flagged", "label": category, "score": 0.93}


def iso(moment: datetime) -> str:
    from chalicelib.adapters import clock

    return clock.iso(moment)


def write_users(first: int, last: int, newest: datetime) -> None:
    from chalicelib.models.users import UserProfile

    with UserProfile.batch_write() as batch:
        for n in range(first, last):
            batch.save(
                UserProfile(
                    f"user-{n:06d}",
                    accepted_terms_version=1,
                    accepted_terms_sha256="0" * 64,
                    created_at=newest - timedelta(days=30),
                    updated_at=newest - timedelta(days=30),
                )
            )


def fill(filler: Filler, start: int, end: int, threads: int) -> float:
    """Published images `start` to `end` (and what comes with them), from `threads` writers,
    showing their progress. Returns the seconds it took."""
    from objektify.progress import progress

    started = time.perf_counter()

    def job(first: int, meter: Any) -> None:
        last = min(first + CHUNK, end)
        filler.write(first, last)
        meter.advance(last - first)

    with (
        progress("  filling", total=end, unit="published images") as meter,
        ThreadPoolExecutor(max_workers=threads) as pool,
    ):
        meter.update(start)
        for future in [pool.submit(job, first, meter) for first in range(start, end, CHUNK)]:
            future.result()
    return time.perf_counter() - started


@dataclass
class Figure:
    requests: float  # DynamoDB requests per call, median
    examined: float  # items the Queries and Scans read, median
    p50_ms: float
    detail: str  # the requests by operation, of the median call


def measure(call: Callable[[Any], Any], runs: int) -> Figure:
    """Call `call(state)` `runs` times, each paging on from the last (it returns the next
    state, None at first), counting DynamoDB requests and timing each."""
    state = None
    times: list[float] = []
    counts: list[dict[str, int]] = []
    examined: list[int] = []
    for _ in range(runs):
        scanned: dict[str, int] = {}
        with counting_aws_calls(scanned) as calls:
            started = time.perf_counter()
            state = call(state)
            times.append((time.perf_counter() - started) * 1000)
        counts.append({k: v for k, v in calls.items() if k.startswith("dynamodb.")})
        examined.append(sum(scanned.values()))
    totals = [sum(c.values()) for c in counts]
    median_call = counts[totals.index(sorted(totals)[len(totals) // 2])]
    detail = " + ".join(
        f"{v} {k.removeprefix('dynamodb.')}" for k, v in sorted(median_call.items())
    )
    return Figure(
        statistics.median(totals), statistics.median(examined), percentile(times, 50), detail
    )


def warm_up() -> None:
    """Open each model's connection with a request that costs the emulator nothing, so that
    no figure pays for it."""
    from chalicelib.models import TABLE_MODELS

    for model in TABLE_MODELS:
        model.describe_table()


def figures(runs: int, top_creator: str) -> dict[str, Figure]:
    from chalicelib.models import GalleryEntry, Generation
    from chalicelib.services import feed, moderation, transparency

    def gallery(cursor: str | None) -> str | None:
        return feed.feed(PAGE, cursor).next_cursor

    def creator(cursor: str | None) -> str | None:
        return feed.creator_page(top_creator, PAGE, cursor).next_cursor

    def queue(cursor: str | None) -> str | None:
        return moderation.queue(MODERATOR, PAGE, cursor)[1]

    def report(_: object) -> None:
        transparency.report(transparency.Period.of_dates(None, None))

    def empty_partition(_: object) -> None:
        list(GalleryEntry.query("feed#none", limit=PAGE + 1, consistent_read=True))

    def empty_index_partition(_: object) -> None:
        list(Generation.review_queue.query("none", limit=PAGE))

    return {
        "gallery page (GET /gallery)": measure(gallery, runs),
        f"user page ({top_creator}, the most prolific)": measure(creator, runs),
        "moderation queue (GET /moderation/queue)": measure(queue, runs),
        "transparency report (last 30 days)": measure(report, runs),
        # What the emulator alone costs: moto's Query walks every item of the table (or of the
        # index's table), so its time grows with the table even where DynamoDB's does not.
        "emulator floor: Query of an empty partition (gallery table), one call": measure(
            empty_partition, 1
        ),
        "emulator floor: Query of an empty index partition (generations), one call": measure(
            empty_index_partition, 1
        ),
    }


def table_sizes() -> dict[str, int]:
    import boto3

    from chalicelib.models import GalleryEntry, Generation, Notice, Report, Statement, UserProfile

    client = boto3.client("dynamodb")
    return {
        model.__name__: int(
            client.describe_table(TableName=model.Meta.table_name)["Table"]["ItemCount"]
        )
        for model in (Generation, GalleryEntry, Statement, Report, Notice, UserProfile)
    }


def row(size: int, f: Figure) -> str:
    return (
        f"  {size:>7,} images: {f.requests:>4.0f} requests  "
        f"{f.examined:>7,.0f} items read  p50 {f.p50_ms:>9.1f} ms   ({f.detail})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000,100000", help="published images, ascending")
    parser.add_argument("--runs", type=int, default=3, help="calls measured per figure and size")
    parser.add_argument("--threads", type=int, default=3, help="writers filling the tables")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    # The emulator's Query walks the whole table: at 100,000 images one takes tens of seconds
    # on a busy machine, past PynamoDB's 30 s read timeout (and botocore would send it again).
    pynamodb_settings.default_settings_dict["read_timeout_seconds"] = 1800
    results: dict[int, dict[str, Figure]] = {}
    began = time.perf_counter()
    with tables():
        filler = Filler(datetime.now(UTC), sizes[-1])
        filled = users = 0
        for size in sizes:
            print(f"== {size:,} published images", flush=True)
            write_users(users, users_for(size), filler.newest)
            users = users_for(size)
            seconds = fill(filler, filled, size, args.threads)
            filled = size
            held = ", ".join(f"{n:,} {name}" for name, n in table_sizes().items())
            print(f"  filled in {seconds:.0f} s; the tables hold {held}", flush=True)
            warm_up()
            results[size] = figures(args.runs, TOP_CREATOR)
            for name, figure in results[size].items():
                print(f"  {name}\n  {row(size, figure)}", flush=True)
    print(f"\nscale: per call, median of {args.runs} (DynamoDB requests, items read, p50 time)")
    for name in results[sizes[0]]:
        print(name)
        for size in sizes:
            print(row(size, results[size][name]))
    print(f"(whole run {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
