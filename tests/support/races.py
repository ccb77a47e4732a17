"""Races that really overlap: many pooled connections, and (on PostgreSQL) every racer's transaction held
open at once.

In one process the event loop tends to run short transactions one after another, so a race can pass
by luck. `race` holds a SHARE lock on a table the racers write to (the audit log: every change
writes it last) from a connection of its own, until every racer waits on a lock, then lets them all
go: every transaction has then done its reads before any of them commits, the widest window a slow
database could give. SQLite runs one write transaction per process at a time, so there the racers
simply run.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg

from tests.support.api import Api
from tests.support.running_app import running_api

T = TypeVar("T")
POOL_SIZE = 40  # more than the racers: none of them waits for a connection
WAIT_SECONDS = 10.0


def racing_url(database_url: str) -> str:
    if not database_url.startswith("postgres"):
        return database_url
    return f"{database_url}{'&' if '?' in database_url else '?'}maxsize={POOL_SIZE}"


@asynccontextmanager
async def racing_api(database_url: str, **overrides: str) -> AsyncIterator[Api]:
    async with running_api(racing_url(database_url), **overrides) as api:
        yield api


async def race(
    database_url: str,
    racers: list[Awaitable[T]],
    *,
    first: list[Awaitable[T]] | None = None,
    held_table: str = "audit_event",
) -> list[T]:
    """Runs every racer at once; on PostgreSQL, writes to `held_table` wait until all of them are waiting.

    `first` (answers first in the result) start before the others and are waiting on a lock before
    the others start: a race in a given order.
    """
    first = first or []
    if not database_url.startswith("postgres"):
        return [*await asyncio.gather(*first), *await asyncio.gather(*racers)]
    holder = await asyncpg.connect(database_url.partition("?")[0])
    try:
        hold = holder.transaction()
        await hold.start()
        await holder.execute(f"LOCK TABLE {held_table} IN SHARE MODE")
        started = asyncio.gather(*first)
        await _until_waiting(holder, len(first), started)
        running = asyncio.gather(*racers)
        await _until_waiting(holder, len(first) + len(racers), running)
        await hold.rollback()
        return [*await started, *await running]
    finally:
        await holder.close()


async def _until_waiting(holder: asyncpg.Connection, count: int, running: "asyncio.Future[Any]") -> None:
    """Until `count` other sessions wait on a lock (or WAIT_SECONDS passed, or the racers finished)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and not running.done():
        await holder.execute("SELECT pg_stat_clear_snapshot()")  # else frozen for the transaction
        waiting = await holder.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        if waiting >= count:
            return
        await asyncio.sleep(0.02)
