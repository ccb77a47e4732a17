"""The migration lock: one migrator at a time per database, released when its process dies.

PostgreSQL: a session advisory lock (`pg_advisory_lock`, as Rails takes it) on a connection of its
own, outside the pool (pooled connections are handed back without a reset, so they must never
hold session state). Advisory locks are per database, so migrations of two databases on one
server do not wait for each other.
SQLite: an exclusive `flock` on `<database file>.migrate-lock`, created 0600 next to the file.
"""

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from filelock import AsyncFileLock, Timeout
from tortoise.backends.base.config_generator import expand_db_url

from app import direct_connection
from app.sqlite_client import PRIVATE_FILE_MODE, SqliteFileUnusable, database_folder_problem

log = logging.getLogger("keyward.migrate")

# One number for every Keyward migrator (the stale sweep's lock uses another).
ADVISORY_LOCK_KEY = int.from_bytes(hashlib.sha256(b"keyward:migrate").digest()[:8], "big", signed=True)
POLL_SECONDS = 0.25
CONNECT_TIMEOUT_SECONDS = 10.0


class MigrationLockTimeout(TimeoutError):
    pass


def _waited_too_long(seconds: float) -> MigrationLockTimeout:
    return MigrationLockTimeout(
        f"another migration held the migration lock for {seconds:g} s "
        "(KEYWARD_MIGRATE_LOCK_TIMEOUT_SECONDS); is a `keyward migrate` stuck?"
    )


def sqlite_lock_path(file_path: str) -> Path:
    return Path(f"{file_path}.migrate-lock")


@asynccontextmanager
async def _sqlite_lock(file_path: str, wait_seconds: float) -> AsyncIterator[None]:
    if file_path == ":memory:":  # one process, one connection: nobody to wait for
        yield
        return
    problem = database_folder_problem(file_path)
    if problem:
        raise SqliteFileUnusable(f"cannot create the SQLite database {file_path!r}: {problem}")
    lock = AsyncFileLock(sqlite_lock_path(file_path), mode=PRIVATE_FILE_MODE, preserve_lock_file=True)
    try:
        await lock.acquire(timeout=0)
    except Timeout:
        log.info("Another migration is running on %s: waiting for it (up to %g s).", file_path, wait_seconds)
        try:
            await lock.acquire(timeout=wait_seconds)
        except Timeout:
            raise _waited_too_long(wait_seconds) from None
    try:
        yield
    finally:
        await lock.release()


@asynccontextmanager
async def _postgres_lock(url: str, wait_seconds: float) -> AsyncIterator[None]:
    connection = await direct_connection.connect(url, CONNECT_TIMEOUT_SECONDS)
    try:
        if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY):
            log.info("Another migration is running on this database: waiting for it (up to %g s).", wait_seconds)
            deadline = time.monotonic() + wait_seconds
            while not await connection.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY):
                if time.monotonic() >= deadline:
                    raise _waited_too_long(wait_seconds)
                await asyncio.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
    finally:
        await connection.close(timeout=CONNECT_TIMEOUT_SECONDS)


def migration_lock(url: str, wait_seconds: float) -> "contextlib.AbstractAsyncContextManager[None]":
    """Hold the database's migration lock for the block, waiting up to `wait_seconds` for it."""
    if url.startswith("sqlite"):
        return _sqlite_lock(expand_db_url(url)["credentials"]["file_path"], wait_seconds)
    return _postgres_lock(url, wait_seconds)
