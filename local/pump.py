"""The event pump: what Lambda's event source mappings and EventBridge schedules do in AWS.

It reads the app's own registrations (`app.event_sources`), long-polls each SQS queue, calls
the registered handler with a real Lambda SQS event, honours the partial-batch-failure answer
(deletes only what succeeded; the rest reappear after the visibility timeout and reach the DLQ
after the queue's maxReceiveCount), reads each DynamoDB stream's shards in order and hands
their records to the handler as Lambda's stream event (again from the first failed record,
see `StreamPoller`), and fires scheduled handlers on their rate.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from local.config import REGION

Handler = Callable[[dict[str, Any], Any], Any]


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, function_name: str, timeout_s: int = 60) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """Lambda's SQS event for a batch of ReceiveMessage results."""
    records = []
    for message in messages:
        body = message["Body"]
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": body,
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.get("DataType", "String"),
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody")
                or hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def scheduled_event(rule_name: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:123456789012:rule/{rule_name}"],
        "detail": {},
    }


def rate_seconds(expression: Any) -> float:
    """Seconds between runs of a `rate(...)` schedule (cron schedules run every minute)."""
    text = expression if isinstance(expression, str) else expression.to_string()
    found = re.match(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", text)
    if not found:
        return 60.0
    unit = {"minute": 60, "hour": 3600, "day": 86400}[found.group(2).rstrip("s")]
    return float(int(found.group(1)) * unit)


class QueuePoller(threading.Thread):
    def __init__(
        self,
        name: str,
        queue: str,
        batch_size: int,
        handler: Handler,
        stop: threading.Event,
        wait_seconds: int = 2,
    ) -> None:
        super().__init__(name=f"pump-{name}", daemon=True)
        self.function_name, self.queue, self.handler = name, queue, handler
        self.batch_size = max(1, min(batch_size, 10))
        self.stop, self.wait_seconds = stop, wait_seconds
        self.sqs: Any = boto3.client("sqs", region_name=REGION)

    def _queue_url_and_arn(self) -> tuple[str, str]:
        while not self.stop.is_set():
            try:
                url = self.sqs.get_queue_url(QueueName=self.queue)["QueueUrl"]
                arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                    "Attributes"
                ]["QueueArn"]
                return url, arn
            except (ClientError, EndpointConnectionError):
                self.stop.wait(1)
        raise SystemExit

    def run(self) -> None:
        url, arn = self._queue_url_and_arn()
        while not self.stop.is_set():
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=self.batch_size,
                    WaitTimeSeconds=self.wait_seconds,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
            except (ClientError, EndpointConnectionError) as exc:
                print(f"[pump] {self.queue}: receive failed: {exc}", flush=True)
                self.stop.wait(1)
                continue
            if messages:
                self.deliver(url, arn, messages)

    def deliver(self, url: str, arn: str, messages: list[dict[str, Any]]) -> None:
        if os.environ.get("OBJEKTIFY_LOCAL_PUMP_DUPLICATES") == "1":
            # At-least-once, out of order: the batch first in reverse, then again as received.
            try:
                self.handler(sqs_event(messages[::-1], arn), LambdaContext(self.function_name))
            except Exception as exc:
                print(
                    f"[pump] {self.function_name} failed: {type(exc).__name__}: {exc}", flush=True
                )
        event = sqs_event(messages, arn)
        try:
            answer = self.handler(event, LambdaContext(self.function_name))
        except Exception as exc:  # a failed invocation: every message comes back later
            print(f"[pump] {self.function_name} failed: {type(exc).__name__}: {exc}", flush=True)
            return
        failed = {
            item["itemIdentifier"]
            for item in ((answer or {}).get("batchItemFailures") or [])
            if isinstance(item, dict)
        }
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )


# How long a DynamoDB stream keeps a record.
STREAM_RETENTION_SECONDS = 24 * 3600


def stream_event(records: list[dict[str, Any]], stream_arn: str) -> dict[str, Any]:
    """Lambda's DynamoDB stream event for a batch of GetRecords results."""
    shaped = []
    for record in records:
        data = dict(record["dynamodb"])
        created: Any = data.get("ApproximateCreationDateTime")
        # Lambda's event holds epoch seconds; boto3 parses the stream's into a datetime.
        moment = created.timestamp() if hasattr(created, "timestamp") else created or time.time()
        data["ApproximateCreationDateTime"] = float(int(moment))
        shaped.append(
            {
                "eventID": record.get("eventID") or uuid.uuid4().hex,
                "eventName": record["eventName"],
                "eventVersion": record.get("eventVersion", "1.1"),
                "eventSource": "aws:dynamodb",
                "awsRegion": REGION,
                "dynamodb": data,
                "eventSourceARN": stream_arn,
            }
        )
    return {"Records": shaped}


def table_of(stream_arn: str) -> str:
    """The table named by a stream's (or a table's) ARN: `...:table/NAME/stream/LABEL`."""
    return stream_arn.split(":", 5)[5].split("/")[1]


class StreamPoller(threading.Thread):
    """A DynamoDB stream's event source mapping: reads each shard in order (GetShardIterator
    after the last record handled, then GetRecords), hands batches to the handler in order,
    and on a failure reads the batch again as Lambda does: from the first record the handler
    reported failed (ReportBatchItemFailures), or the whole batch when the invocation failed
    (split in halves first, as BisectBatchOnFunctionError does), until `max_retries` tries;
    then the batch is given up (Lambda's on-failure destination) and the stream goes on."""

    def __init__(
        self,
        name: str,
        stream_arn: str,
        batch_size: int,
        handler: Handler,
        stop: threading.Event,
        start_at: str = "TRIM_HORIZON",
        max_retries: int = 5,
        idle_seconds: float = 0.2,
    ) -> None:
        super().__init__(name=f"pump-{name}", daemon=True)
        self.function_name, self.handler, self.stop = name, handler, stop
        self.table = table_of(stream_arn)
        self.batch_size = max(1, min(batch_size, 1000))
        self.start_at, self.max_retries, self.idle_seconds = start_at, max_retries, idle_seconds
        self.dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
        # The stream's ARN names an account; botocore would send to that account's own
        # endpoint, which only the emulator's usual one answers in-process.
        self.streams: Any = boto3.client(
            "dynamodbstreams",
            region_name=REGION,
            config=Config(account_id_endpoint_mode="disabled"),
        )
        # Per shard: the sequence number of the last record handled (or given up).
        self.done: dict[str, str] = {}

    def _stream_arn(self) -> str:
        while not self.stop.is_set():
            try:
                table = self.dynamodb.describe_table(TableName=self.table)["Table"]
                if table.get("LatestStreamArn"):
                    return str(table["LatestStreamArn"])
            except (ClientError, EndpointConnectionError):
                pass
            self.stop.wait(1)
        raise SystemExit

    def run(self) -> None:
        arn = self._stream_arn()
        if self.start_at == "LATEST":
            for shard in self._shards(arn):
                records = self._read(arn, shard, "TRIM_HORIZON", 10_000)
                if records:
                    self.done[shard] = records[-1]["dynamodb"]["SequenceNumber"]
        while not self.stop.is_set():
            try:
                handled = self.poll(arn)
            except (BotoCoreError, ClientError) as exc:  # read again from the last record done
                print(f"[pump] {self.table} stream: read failed: {exc}", flush=True)
                self.stop.wait(1)
                continue
            if not handled:
                self.stop.wait(self.idle_seconds)

    def _shards(self, arn: str) -> list[str]:
        """Parents before children (a child shard is read once its parent is)."""
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        ids = [s["ShardId"] for s in shards]
        ordered = [s["ShardId"] for s in shards if s.get("ParentShardId") not in ids]
        ordered += [i for i in ids if i not in ordered]
        return ordered

    def _read(self, arn: str, shard: str, kind: str, limit: int) -> list[dict[str, Any]]:
        # A new iterator every read: the emulator's iterators belong to the table object a
        # transaction it rolls back replaces, so a kept iterator could stop seeing records.
        asked: dict[str, Any] = {"StreamArn": arn, "ShardId": shard, "ShardIteratorType": kind}
        if kind == "AFTER_SEQUENCE_NUMBER":
            asked["SequenceNumber"] = self.done[shard]
        iterator = self.streams.get_shard_iterator(**asked)["ShardIterator"]
        return list(self.streams.get_records(ShardIterator=iterator, Limit=limit)["Records"])

    def poll(self, arn: str) -> int:
        """Hand the next batch of every shard to the handler; the number of records read."""
        handled = 0
        for shard in self._shards(arn):
            kind = "AFTER_SEQUENCE_NUMBER" if shard in self.done else "TRIM_HORIZON"
            records = self._read(arn, shard, kind, self.batch_size)
            if records:
                fresh = [r for r in records if not self.trimmed(r)]
                if fresh:
                    self.deliver(arn, fresh)
                self.done[shard] = records[-1]["dynamodb"]["SequenceNumber"]
                handled += len(records)
        return handled

    def trimmed(self, record: dict[str, Any]) -> bool:
        """Older than a DynamoDB stream keeps a record (24 h): gone in AWS, so not handed over.
        The emulator keeps every record, and a restarted pump reads from the start: without
        this, a stack kept for weeks would send the final states of old generations to webhooks
        again once their delivery records (which make a repeat harmless) have expired."""
        created: Any = record["dynamodb"].get("ApproximateCreationDateTime")
        if created is None:
            return False
        moment = created.timestamp() if hasattr(created, "timestamp") else float(created)
        return time.time() - moment > STREAM_RETENTION_SECONDS

    def deliver(self, arn: str, records: list[dict[str, Any]], tries: int = 0) -> None:
        """Hand `records` to the handler until they are all handled or given up."""
        if tries == 0 and os.environ.get("OBJEKTIFY_LOCAL_PUMP_DUPLICATES") == "1":
            # At least once: the batch first as a try whose outcome is lost, then for real
            # (in order: a shard's records are never reordered).
            try:
                self.handler(stream_event(records, arn), LambdaContext(self.function_name))
            except Exception as exc:
                print(
                    f"[pump] {self.function_name} failed: {type(exc).__name__}: {exc}", flush=True
                )
        while records and not self.stop.is_set():
            try:
                answer = self.handler(stream_event(records, arn), LambdaContext(self.function_name))
            except Exception as exc:  # a failed invocation: the batch again, halved
                print(
                    f"[pump] {self.function_name} failed: {type(exc).__name__}: {exc}", flush=True
                )
                tries += 1
                if tries > self.max_retries:
                    self._give_up(records)
                    return
                if len(records) > 1:
                    half = len(records) // 2
                    self.deliver(arn, records[:half], tries)
                    self.deliver(arn, records[half:], tries)
                    return
                continue
            failed = {
                str(item.get("itemIdentifier"))
                for item in ((answer or {}).get("batchItemFailures") or [])
                if isinstance(item, dict)
            }
            numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
            first = next((i for i, n in enumerate(numbers) if n in failed), None)
            if first is None:
                return
            tries += 1
            if tries > self.max_retries:
                self._give_up(records[first:])
                return
            records = records[first:]  # read again from the first failure

    def _give_up(self, records: list[dict[str, Any]]) -> None:
        numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        print(
            f"[pump] {self.function_name}: gave up on records {numbers[0]}..{numbers[-1]} "
            "(the on-failure destination in AWS)",
            flush=True,
        )


class ScheduleRunner(threading.Thread):
    def __init__(self, name: str, every: float, handler: Handler, stop: threading.Event) -> None:
        super().__init__(name=f"schedule-{name}", daemon=True)
        self.function_name, self.every, self.handler, self.stop = name, every, handler, stop

    def run(self) -> None:
        while not self.stop.wait(self.every):
            try:
                self.handler(scheduled_event(self.function_name), LambdaContext(self.function_name))
            except Exception as exc:
                print(
                    f"[pump] {self.function_name} failed: {type(exc).__name__}: {exc}", flush=True
                )


def start(
    app_obj: Any, stop: threading.Event, schedule_seconds: float | None
) -> list[threading.Thread]:
    from chalice.app import DynamoDBEventConfig, ScheduledEventConfig, SQSEventConfig

    threads: list[threading.Thread] = []
    for source in app_obj.event_sources:
        handler = app_obj.handler_map[source.name]
        if isinstance(source, SQSEventConfig) and source.queue:
            threads.append(QueuePoller(source.name, source.queue, source.batch_size, handler, stop))
        elif isinstance(source, DynamoDBEventConfig):
            threads.append(
                StreamPoller(
                    source.name,
                    source.stream_arn,
                    source.batch_size,
                    handler,
                    stop,
                    start_at=source.starting_position,
                )
            )
        elif isinstance(source, ScheduledEventConfig):
            every = schedule_seconds or rate_seconds(source.schedule_expression)
            threads.append(ScheduleRunner(source.name, every, handler, stop))
    for thread in threads:
        thread.start()
    return threads


def main() -> None:
    parser = argparse.ArgumentParser(description="Deliver SQS messages and schedules to the app.")
    parser.parse_args()
    import app as app_module

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    schedule = os.environ.get("OBJEKTIFY_LOCAL_SCHEDULE_SECONDS")
    threads = start(app_module.app, stop, float(schedule) if schedule else None)
    print(f"event pump: {len(threads)} sources", flush=True)
    stop.wait()


if __name__ == "__main__":
    main()
