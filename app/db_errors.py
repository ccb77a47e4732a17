"""Which errors mean "the database is not answering" (an outage), as opposed to a bug or a refusal.

Requests that meet one are answered 503 UNAVAILABLE with `Retry-After` (`app.http.unavailable`),
the outage is logged once (`app.db_outage`), and no traceback is written: the error says nothing
about the request. Everything else keeps its own handling (user errors, masked internal errors).
"""

import sqlite3
from collections.abc import Iterator

import asyncpg
from tortoise.exceptions import DBConnectionError

# SQLSTATE classes that are about the server, not the statement: 08 connection exception,
# 53 insufficient resources (too many connections, out of memory or disk), 57 operator
# intervention (shutting down, cannot connect now, statement_timeout's query_canceled).
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57"})

# SQLite result codes (`sqlite_errorname`, extended codes included by prefix) that mean the file
# cannot be used right now: locked past the busy timeout, cannot be opened, I/O failed, disk full.
UNAVAILABLE_SQLITE_CODES = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL")


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what caused it (Tortoise wraps driver errors, sometimes without `from`)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_database_unavailable(error: BaseException) -> bool:
    """True for a refused or lost connection, a connect, acquire or statement timeout, a server
    shutting down or out of connections, or a SQLite file that is locked or cannot be opened."""
    for cause in causes(error):
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate:
            return sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES
        if isinstance(cause, sqlite3.Error):
            return str(getattr(cause, "sqlite_errorname", "")).startswith(UNAVAILABLE_SQLITE_CODES)
        # Refused, reset or unreachable (OSError); connect, pool acquire or command timeouts;
        # Tortoise's own "cannot connect". (A connection asyncpg found closed has SQLSTATE 08003.)
        if isinstance(cause, OSError | TimeoutError | DBConnectionError):
            return True
        # A pooled connection the server ended while it sat idle (a shutdown): its next statement
        # fails with "cannot switch to state …; another operation is in progress" before the
        # socket is seen closed.
        if isinstance(cause, asyncpg.InternalClientError):
            return True
    return False
