"""Signed webhooks: a user's hook, the events it is sent, and their delivery with retries.

Every final state of a user's generation (`published`, `in_review`, `rejected`, `failed`,
`removed`; a later move between them, such as an in-review image approved, is a new event) is
handed here by the generations table's stream (events/changes.py → `enqueue`): one delivery
record per event (a repeated stream record finds it and enqueues nothing), and a message on
the webhooks queue. The queue's consumer (events/webhooks.py → `deliver`) signs and POSTs the
generation's JSON, as GET /generations/{id} shows it, with

    Objektify-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
    Objektify-Event-Id: <event id, the same on every try: the receiver's deduplication key>

A timeout, a connection or TLS error, 408, 429 or a 5xx is tried again: the message is hidden for
backoff·2^(n-1) seconds (capped) with ChangeMessageVisibility and left on the queue; after
`webhook_max_attempts` receives SQS moves it to the dead-letter queue, and the record says so
(GET /me/webhook). Nothing here runs inside the generation pipeline, so a receiver that is down
slows nothing but its own deliveries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.adapters import clock, webhook_http
from chalicelib.adapters.aws import client
from chalicelib.models.base import refused_by_condition
from chalicelib.models.generations import FINAL_STATES
from chalicelib.models.webhooks import (
    DELIVERY_PREFIX,
    HOOK,
    Webhook,
    WebhookDelivery,
    delivery_entry,
)
from chalicelib.observability import count, logger
from chalicelib.services import accounts, webhook_guard
from chalicelib.services.errors import InvalidRequest
from chalicelib.settings import get_settings

SIGNATURE_HEADER = "Objektify-Signature"
EVENT_ID_HEADER = "Objektify-Event-Id"
SHOWN_DELIVERIES = 20
_EVENT_NAMESPACE = uuid.UUID("5b0f7a63-2f53-4d7b-9f77-0c7e2d1f9a41")
# Deliveries that will not be tried again.
SETTLED = frozenset({"delivered", "failed", "dead_lettered", "refused", "cancelled"})


class DeliverLater(Exception):
    """The delivery failed in a way worth trying again; the message stays on the queue."""


@dataclass(frozen=True)
class NewHook:
    url: str
    secret: str


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `Objektify-Signature` header's value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def set_hook(user_id: str, url: str) -> NewHook:
    """Point the user's webhook at `url` with a new secret (shown once, by this answer)."""
    from chalicelib.services import consent

    # Like the other things a user sets up: a consented account in good standing.
    profile = accounts.load_profile(user_id)
    accounts.require_unrestricted(profile)
    consent.require_consent(profile)
    try:
        webhook_guard.check(url)
    except webhook_guard.RefusedTarget as refused:
        raise InvalidRequest(
            "This webhook URL is not allowed.", details={"url": refused.reason}
        ) from refused
    secret = "whsec_" + secrets.token_urlsafe(32)
    Webhook(user_id, HOOK, url=url, secret=secret, created_at=clock.now()).save()
    return NewHook(url=url, secret=secret)


def delivery_view(record: WebhookDelivery) -> dict[str, Any]:
    return {
        "event_id": record.event_id,
        "generation_id": record.generation_id,
        "event": record.status,
        "status": record.state,
        "attempts": int(record.attempts or 0),
        "last_result": record.last_result,
        "created_at": clock.iso(record.created_at),
        "updated_at": clock.iso(record.updated_at),
    }


def hook_state(user_id: str) -> dict[str, Any]:
    """The hook's URL (never its secret) and its last deliveries, newest first."""
    hook = _hook(user_id)
    deliveries = WebhookDelivery.query(
        user_id,
        WebhookDelivery.entry.startswith(DELIVERY_PREFIX),
        scan_index_forward=False,
        limit=SHOWN_DELIVERIES,
    )
    return {
        "url": hook.url if hook is not None else None,
        "created_at": clock.iso(hook.created_at) if hook is not None else None,
        "deliveries": [delivery_view(d) for d in deliveries],
    }


def remove_all(user_id: str) -> None:
    """The hook and every delivery record (DELETE /me/webhook, erasure); again is harmless."""
    with WebhookDelivery.batch_write() as batch:
        for item in WebhookDelivery.query(user_id, attributes_to_get=["user_id", "entry"]):
            batch.delete(item)


def exported(user_id: str) -> dict[str, Any] | None:
    """What the data export holds: the hook's URL and its deliveries; the secret is a
    credential of the service's, not data about the user, and is left out."""
    hook = _hook(user_id)
    deliveries = [
        delivery_view(d)
        for d in WebhookDelivery.query(user_id, WebhookDelivery.entry.startswith(DELIVERY_PREFIX))
    ]
    if hook is None and not deliveries:
        return None
    return {
        "url": hook.url if hook is not None else None,
        "created_at": clock.iso(hook.created_at) if hook is not None else None,
        "deliveries": deliveries,
    }


def _hook(user_id: str) -> Webhook | None:
    try:
        return Webhook.get(user_id, HOOK, consistent_read=True)
    except Webhook.DoesNotExist:
        return None


def event_id_of(generation_id: str, status: str, updated_at: str) -> str:
    """The same event always has the same id (a repeated stream record, a retried delivery)."""
    return "evt_" + uuid.uuid5(_EVENT_NAMESPACE, f"{generation_id}|{status}|{updated_at}").hex


def enqueue(owner_id: str, generation: dict[str, Any]) -> str | None:
    """Queue the delivery of a generation's final state to its owner's hook, once per event.
    `generation` is the owner's view (GET /generations/{id}). Returns the event id, or None
    when there is nothing to send (not final, no hook, already queued)."""
    status = str(generation.get("status", ""))
    if status not in FINAL_STATES:
        return None
    hook = _hook(owner_id)
    if hook is None:
        return None
    settings = get_settings()
    generation_id = str(generation["id"])
    event_time = str(generation.get("updated_at") or clock.iso(clock.now()))
    event_id = event_id_of(generation_id, status, event_time)
    now = clock.now()
    record = WebhookDelivery(
        owner_id,
        delivery_entry(event_time, event_id),
        event_id=event_id,
        generation_id=generation_id,
        status=status,
        state="pending",
        attempts=0,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=settings.webhook_delivery_days),
    )
    try:
        record.save(condition=WebhookDelivery.entry.does_not_exist())
    except PutError as exc:
        if refused_by_condition(exc):
            return None  # this event is already queued
        raise
    message = {
        "user_id": owner_id,
        "entry": record.entry,
        "event_id": event_id,
        "body": json.dumps(generation, separators=(",", ":"), sort_keys=True),
    }
    try:
        sqs = client("sqs")
        sqs.send_message(
            QueueUrl=sqs.get_queue_url(QueueName=settings.webhooks_queue)["QueueUrl"],
            MessageBody=json.dumps(message),
        )
    except Exception:
        record.delete()  # so the stream's retry of this record queues it again
        raise
    return event_id


def backoff_seconds(attempt: int) -> int:
    """How long the message stays hidden after failed try number `attempt` (1, 2, ...)."""
    settings = get_settings()
    delay = settings.webhook_backoff_seconds * 2 ** max(0, attempt - 1)
    return int(min(delay, settings.webhook_backoff_max_seconds))


def retry_window_seconds() -> int:
    """How long a delivery is tried before it is dead-lettered (the waits between tries)."""
    return sum(backoff_seconds(n) for n in range(1, get_settings().webhook_max_attempts))


def _retryable(result: webhook_http.PostResult) -> bool:
    if result.status is None:
        # A certificate problem may be fixed within the hour, like a receiver that is down.
        return result.problem in ("timeout", "connection_error", "tls_error")
    return result.status >= 500 or result.status in (408, 429)


def deliver(message_body: str, receipt_handle: str, receive_count: int) -> str:
    """Make one try of a queued delivery. Returns the record's new state; raises DeliverLater
    (after hiding the message for the backoff) when it should be tried again."""
    settings = get_settings()
    message = json.loads(message_body)
    user_id, entry = str(message["user_id"]), str(message["entry"])
    try:
        record = WebhookDelivery.get(user_id, entry, consistent_read=True)
    except WebhookDelivery.DoesNotExist:
        return "gone"  # the hook was removed, or the account erased
    if record.state in SETTLED:
        return record.state
    hook = _hook(user_id)
    if hook is None:
        return _settle(record, "cancelled", "no webhook", receive_count)
    try:
        target = webhook_guard.check(hook.url)
    except webhook_guard.RefusedTarget as refused:
        return _settle(record, "refused", refused.reason, receive_count)
    body = str(message["body"]).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Objektify-Webhooks/1",
        SIGNATURE_HEADER: sign(hook.secret, int(clock.epoch()), body),
        EVENT_ID_HEADER: record.event_id,
    }
    result = webhook_http.post(
        target.scheme,
        target.host,
        target.port,
        target.address,
        target.path,
        body,
        headers,
        settings.webhook_timeout_seconds,
    )
    outcome = str(result.status) if result.status is not None else str(result.problem)
    count("WebhookAttempts")
    if result.status is not None and 200 <= result.status < 300:
        return _settle(record, "delivered", outcome, receive_count)
    if not _retryable(result):
        return _settle(record, "failed", outcome, receive_count)
    if receive_count >= settings.webhook_max_attempts:
        # SQS moves the message to the dead-letter queue when it is next received.
        _settle(record, "dead_lettered", outcome, receive_count)
        count("WebhookDeadLettered")
        raise DeliverLater(outcome)
    _settle(record, "retrying", outcome, receive_count)
    sqs = client("sqs")
    sqs.change_message_visibility(
        QueueUrl=sqs.get_queue_url(QueueName=settings.webhooks_queue)["QueueUrl"],
        ReceiptHandle=receipt_handle,
        VisibilityTimeout=backoff_seconds(receive_count),
    )
    raise DeliverLater(outcome)


def _settle(record: WebhookDelivery, state: str, result: str, attempts: int) -> str:
    try:
        record.update(
            actions=[
                WebhookDelivery.state.set(state),
                WebhookDelivery.last_result.set(result[:200]),
                WebhookDelivery.attempts.set(attempts),
                WebhookDelivery.updated_at.set(clock.now()),
            ],
            # Never bring back a record that the hook's removal or an erasure just deleted.
            condition=WebhookDelivery.entry.exists(),
        )
    except UpdateError as exc:
        if refused_by_condition(exc):
            return "gone"
        raise
    logger.info(
        "webhook delivery",
        extra={"event_id": record.event_id, "state": state, "result": result, "try": attempts},
    )
    return state
