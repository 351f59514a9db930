"""`objektify dlq redrive QUEUE`: move the messages of a queue's DLQ back to the queue, once the
cause of their failure is fixed. Each message is sent before it is deleted from the DLQ, so a
crash part-way duplicates at worst (every handler tolerates duplicates), never loses."""

from __future__ import annotations

from typing import Any

import boto3


def redrive(queue: str, limit: int = 10_000) -> int:
    sqs: Any = boto3.client("sqs")
    source = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName=f"{queue}-dlq")["QueueUrl"]
    moved = 0
    while moved < limit:
        batch = sqs.receive_message(
            QueueUrl=dlq,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            VisibilityTimeout=60,
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            extra = (
                {"MessageAttributes": message["MessageAttributes"]}
                if message.get("MessageAttributes")
                else {}
            )
            sqs.send_message(QueueUrl=source, MessageBody=message["Body"], **extra)
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved
