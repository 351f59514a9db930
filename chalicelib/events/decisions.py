"""The statements table's stream: a user's decisions pushed to them as they happen.

A statement of reasons is written with every decision about a user's content or account, and
its appeal changes it in place (filed, decided). For every record a user would notice, the
statement's subject's open WebSocket connections are sent
`{"type": "decision", "decision": body}`, where `body` is exactly one item of GET /me/decisions
(`statements.shown`, `views.plain`), built from the record's new image:
- an INSERT: a new decision (a removal, a suspension, a ban, an appeal's outcome);
- a MODIFY whose body as GET /me/decisions shows it changed (an appeal filed or decided).
  The moment a moderator takes an appeal up (`deciding`, on its way to `decided` with the
  undo in between) is not pushed: the decided state follows.
Nothing is pushed for a REMOVE, for a change of subject (erasure anonymises a statement in
place) or for a statement about an anonymised (erased) subject. A subject with no account, or
whose account is erased, has no connection (a connect verifies the token and the erasure
marker, and erasure forgets every connection), so a push to them reaches no one.

Notices' outcomes are not pushed: a notice comes from anyone and records no user id, only the
notifier's name and e-mail (kept apart, for a limited time); the notifier follows it through the
signed status URL the notice's answer gave.

Streams deliver at least once: a record that comes again repeats a push the client already
showed. One failing record does not lose the others (`changes.process_records`).
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, DynamoDBEvent

from chalicelib.events.changes import process_records
from chalicelib.observability import logger
from chalicelib.settings import get_settings

bp = Blueprint(__name__)

# Replaced with the table's own stream by the CDK app (infra/api.py); the local event pump finds
# the stream by the table's name.
STREAM_ARN = (
    f"arn:aws:dynamodb:{get_settings().region}:123456789012:"
    f"table/{get_settings().statements_table}/stream/latest"
)
# What erasure makes a statement's subject (services/erasure.py: anonymise_statements).
ANONYMISED = "anonymous#"


def body(image: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(subject's user id, the statement as one item of GET /me/decisions) for a stream image."""
    from chalicelib.api import views
    from chalicelib.models.statements import Statement
    from chalicelib.services import statements

    statement = Statement.from_raw_data(image)
    return statement.user_id, views.plain(statements.shown(statement))


def noticed(record: Any) -> tuple[str, dict[str, Any]] | None:
    """(subject, body) when the record is something the subject would notice, else None."""
    from chalicelib.services.appeals import DECIDING

    if record.event_name == "REMOVE" or not record.new_image:
        return None
    subject, after = body(record.new_image)
    if subject.startswith(ANONYMISED):
        return None
    if record.event_name == "INSERT" or not record.old_image:
        return subject, after
    old_subject, before = body(record.old_image)
    if old_subject != subject or before == after:
        return None  # another subject, or nothing the subject sees (a strike withdrawn)
    if (after.get("appeal") or {}).get("status") == DECIDING:
        return None
    return subject, after


def handle(record: Any) -> None:
    from chalicelib.services import live

    found = noticed(record)
    if found is None:
        return
    subject, decision = found
    live.push(subject, {"type": "decision", "decision": decision})
    logger.info("decision pushed", extra={"statement_id": decision["id"]})


def process(event: DynamoDBEvent) -> dict[str, Any]:
    return process_records(event, handle, "DecisionChangeFailed")


@bp.on_dynamodb_record(stream_arn=STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON")
def on_decision_change(event: DynamoDBEvent) -> dict[str, Any]:
    return process(event)
