"""How long a migration may wait for the locks of the tables it changes (PostgreSQL).

A migration's DDL takes strong table locks: ALTER TABLE takes ACCESS EXCLUSIVE, a new foreign key
SHARE ROW EXCLUSIVE on the table it references. PostgreSQL queues lock requests, so a migration
waiting behind one long transaction (a report, an idle-in-transaction session, a backup) makes
every later query of that table wait behind the migration: a `keyward migrate` run while the
service serves would stop its traffic for as long as that transaction lasts.

So each migration's transaction waits at most `timeout` for a lock (`SET LOCAL lock_timeout`),
and when that runs out it rolls back, pauses so the queries queued behind it drain, and tries
again, `attempts` times in all; then the migrate fails in one line and changes nothing. This is
what GitLab's migration helpers and Rails' strong_migrations do. SQLite has one lock for the
whole file and its own wait (the busy timeout): nothing is set there.
"""

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from app.db_errors import causes

LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a wait that lock_timeout ended


@dataclass(frozen=True)
class TableLockWait:
    timeout: float  # seconds one attempt waits for a lock
    attempts: int
    pause: float = 1.0  # seconds between two attempts, for the queued queries to go through

    async def bound(self, transaction: BaseDBAsyncClient) -> None:
        """Bound this transaction's waits for locks (PostgreSQL; nothing on SQLite)."""
        if transaction.capabilities.dialect == "postgres":
            await transaction.execute_script(f"SET LOCAL lock_timeout = {max(1, round(self.timeout * 1000))}")


def is_lock_wait_ended(error: BaseException) -> bool:
    """True when `error` comes from a lock wait that lock_timeout ended."""
    return any(getattr(cause, "sqlstate", None) == LOCK_NOT_AVAILABLE for cause in causes(error))
