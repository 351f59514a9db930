"""DynamoDB's Query reads one partition; moto's reads the whole table.

moto 5's `Table.query` on a table's own key lists and sorts every item of the table
(`all_items()`) and then keeps the partition asked for, so a Query costs time in the size of
the table, not of its answer: against the blocked hashes table holding 100,000 listed hashes
(1.6 million band items) one Query took over a minute here, where DynamoDB answers in
milliseconds. While a Query on a table's own key runs, `all_items()` gives only that
partition's items (in moto's own order), which is what the Query then keeps anyway: answers
are unchanged, index Queries and Scans untouched.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto.dynamodb.models.table import Table

_asked = threading.local()  # the (table, hash key) of the Query this thread runs


def install() -> None:
    """Give moto's Queries on a table's own key the partition alone (idempotent)."""
    if getattr(Table.query, "__reads_one_partition__", False):
        return
    query, all_items = Table.query, Table.all_items

    @functools.wraps(query)
    def one_partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        _asked.partition = (self, hash_key)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _asked.partition = None

    @functools.wraps(all_items)
    def partition_items(self: Table) -> list[Any]:
        asked = getattr(_asked, "partition", None)
        if asked is None or asked[0] is not self:
            return all_items(self)
        found = self.items.get(asked[1])
        if found is None:
            return []
        if not self.range_key_attr:
            return [found]
        return sorted(found.values(), key=lambda item: (item.hash_key, item.range_key))

    one_partition_query.__reads_one_partition__ = True  # type: ignore[attr-defined]
    Table.query = one_partition_query  # type: ignore[method-assign]
    Table.all_items = partition_items  # type: ignore[method-assign]
