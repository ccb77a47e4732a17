"""Tortoise's SQLite engine, made safe for a credential store (``"engine": "app.sqlite_client"``).

Three things differ from ``tortoise.backends.sqlite``:

- The database file is created ``0600`` whatever the umask: it holds token hashes and password
  hashes. SQLite gives its ``-wal``, ``-shm`` and ``-journal`` files the mode of the database file.
- A script run inside a transaction runs statement by statement. Python's ``executescript``
  commits the open transaction first, so a migration's DDL would be committed one statement at a
  time and its record could never share its transaction.
- A connection that cannot be opened fails with one clear error (naming a missing folder) and
  leaves the client usable: Tortoise's wrapper keeps its lock when the connect fails, so the next
  query (the migration recorder swallows the first error) waited on that lock for ever.
"""

import os
import sqlite3
from pathlib import Path
from typing import Any

from tortoise.backends.base.client import ConnectionWrapper, NestedTransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
    translate_exceptions,
)
from tortoise.connection import get_connections
from tortoise.exceptions import DBConnectionError, TransactionManagementError

PRIVATE_FILE_MODE = 0o600


class SqliteFileUnusable(DBConnectionError):
    """The database file cannot be created or opened; the message says why, in one line."""


def database_folder_problem(file_path: str) -> str | None:
    """Why the database file cannot be created in its folder, or None (also for ``:memory:``)."""
    if file_path == ":memory:" or file_path.startswith("file:"):
        return None
    folder = Path(file_path).parent
    if not folder.exists():
        return f"the folder {str(folder)!r} does not exist (create it, or point the URL elsewhere)"
    if not folder.is_dir():
        return f"{str(folder)!r} is not a folder"
    return None


def create_private_file(file_path: str) -> None:
    """Create the database file owner-only if it is not there yet (an existing file keeps its mode)."""
    if file_path == ":memory:" or file_path.startswith("file:"):
        return
    problem = database_folder_problem(file_path)
    if problem:
        raise SqliteFileUnusable(f"cannot create the SQLite database {file_path!r}: {problem}")
    try:
        descriptor = os.open(file_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    except OSError as exc:
        raise SqliteFileUnusable(f"cannot open the SQLite database {file_path!r}: {exc.strerror}") from exc
    os.close(descriptor)


def split_statements(script: str) -> list[str]:
    """The complete SQL statements of `script`, in order (semicolons inside strings or triggers kept)."""
    statements: list[str] = []
    start = 0
    for position, character in enumerate(script):
        if character == ";" and sqlite3.complete_statement(script[start : position + 1]):
            statement = script[start : position + 1].strip()
            if statement != ";":
                statements.append(statement)
            start = position + 1
    rest = script[start:].strip()
    if rest:
        statements.append(rest)
    return statements


class _ReleasingConnectionWrapper(ConnectionWrapper):  # type: ignore[type-arg]
    async def __aenter__(self) -> Any:
        await self._lock.acquire()
        try:
            await self.ensure_connection()
        except BaseException:
            self._lock.release()
            raise
        return self.connection


class _ReleasingTransactionContext(SqliteTransactionContext):
    async def __aenter__(self) -> Any:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
        except BaseException:
            self._trxlock.release()
            raise
        self.token = get_connections().set(self.connection_name, self.connection)
        await self.connection.begin()
        return self.connection


class PrivateSqliteTransaction(SqliteTransactionWrapper):
    """A transaction whose scripts stay inside it, and that takes the write lock when it begins.

    Tortoise begins with a deferred BEGIN: the write lock is asked for at the first write, after
    the transaction has read. When another process (`keyward serve --workers 2`, the worker, a
    CLI command) committed in between, SQLite cannot let the reader write on its older snapshot
    and answers SQLITE_BUSY at once, without waiting the busy timeout: with two workers, 5 of 32
    concurrent mutations were answered 503. BEGIN IMMEDIATE waits its turn (the busy timeout)
    before reading, so the transaction's snapshot is the newest.
    """

    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc

    @translate_exceptions
    async def execute_script(self, query: str) -> None:
        async with self.acquire_connection() as connection:
            for statement in split_statements(query):
                self.log.debug(statement)
                await connection.execute(statement)

    def _in_transaction(self) -> Any:
        return NestedTransactionContext(PrivateSqliteTransaction(self))


class PrivateSqliteClient(SqliteClient):
    async def create_connection(self, with_db: bool) -> None:
        if not self._connection:
            create_private_file(self.filename)
            try:
                await super().create_connection(with_db)
            except sqlite3.Error as exc:
                raise SqliteFileUnusable(f"cannot open the SQLite database {self.filename!r}: {exc}") from exc

    def acquire_connection(self) -> ConnectionWrapper:  # type: ignore[type-arg]
        return _ReleasingConnectionWrapper(self._lock, self)

    def _in_transaction(self) -> Any:
        return _ReleasingTransactionContext(PrivateSqliteTransaction(self), self._lock)


client_class = PrivateSqliteClient
