"""Open WebSocket connections (issue 18): who is listening, so a change can be pushed to them.

One table, two kinds of item under the same (pk, sk) key schema:
- the owner's: pk "user#<user id>", sk "<connection id>" → when it connected. Pushing to a
  user is one Query of their partition; one user may hold several connections.
- the connection's: pk "connection#<connection id>", sk "owner" → the user id, so a
  disconnect (whose event names only the connection) finds the owner's item to delete.

Both expire by TTL after `websocket_connection_seconds` (2 hours: API Gateway closes every
WebSocket connection by then), so a connection whose disconnect never arrived goes away on its
own; until DynamoDB deletes it, a read skips an item whose time has passed.

Access patterns
- connect: PutItem of both items.
- push to a user: Query (user#…), consistent (a connection made a moment ago is pushed to).
- disconnect, or a push answered 410 Gone: GetItem (connection#…, owner), then DeleteItem of both.
"""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import BILLING_MODE, region
from chalicelib.settings import get_settings

OWNER = "owner"


def owner_pk(user_id: str) -> str:
    return f"user#{user_id}"


def connection_pk(connection_id: str) -> str:
    return f"connection#{connection_id}"


class LiveConnection(Model):
    """Either kind of item (see the module's docstring)."""

    class Meta:
        table_name = get_settings().connections_table
        region = region()
        billing_mode = BILLING_MODE

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute()
    connected_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
