"""The event pump: what Lambda's event source mappings and EventBridge schedules do in AWS.

It reads the app's own registrations (`app.event_sources`), long-polls each SQS queue, calls
the registered handler with a real Lambda SQS event, honours the partial-batch-failure answer
(deletes only what succeeded; the rest reappear after the visibility timeout and reach the DLQ
after the queue's maxReceiveCount), and fires scheduled handlers on their rate.
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
from botocore.exceptions import ClientError, EndpointConnectionError

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
    from chalice.app import ScheduledEventConfig, SQSEventConfig

    threads: list[threading.Thread] = []
    for source in app_obj.event_sources:
        handler = app_obj.handler_map[source.name]
        if isinstance(source, SQSEventConfig) and source.queue:
            threads.append(QueuePoller(source.name, source.queue, source.batch_size, handler, stop))
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
