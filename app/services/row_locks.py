"""How a transaction reads the row it is about to act on, so concurrent callers act one after another.

A service that changes or deletes a row, or inserts a row under it, reads it with `locked(...)`
inside the transaction that writes. On PostgreSQL a concurrent caller then waits at that read and,
once the first commits, reads the row as it is now: gone after a delete (so it answers NOT_FOUND,
and nothing is deleted or audited twice), revoked after a revoke, renamed after a rotation. SQLite
needs no row locks: each process runs one write transaction at a time (Tortoise holds its single
connection for the whole transaction), and each transaction takes the file's write lock when it
begins (`app.sqlite_client`), so those of several processes on one file wait for each other too.
"""

import enum
from typing import TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

M = TypeVar("M", bound=Model)


class Lock(enum.Enum):
    # The row will be deleted: FOR UPDATE waits for every other lock on it, including the foreign-key
    # check of an insert that references it, and keeps new references out until the delete commits.
    DELETE = "delete"
    # The row will be updated, or a row will be inserted under it: FOR NO KEY UPDATE conflicts with
    # DELETE and with other CHANGEs (so a child is never inserted under a row being deleted), but not
    # with the foreign-key checks of inserts elsewhere.
    CHANGE = "change"


def locked(query: QuerySet[M], lock: Lock | None) -> QuerySet[M]:
    if lock is Lock.DELETE:
        return query.select_for_update()
    if lock is Lock.CHANGE:
        return query.select_for_update(no_key=True)
    return query
