"""Everything hand-written SQL needs to know about SQLite versus PostgreSQL, in one place.

Placeholders (`$1` against `?1`), how a time and a list of ids are passed and read back, day
arithmetic and JSON objects. Hand-written SQL exists only where building the query with the ORM
cost more than running it (see bench/); it is built from a `Dialect`, never from per-dialect
format strings.

SQLite has no time type: Tortoise stores a datetime as `isoformat(" ")` text in UTC, and text in
that one format compares in time order. `time_value` writes that format and `read_time` reads it.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
from tortoise import BaseDBAsyncClient


class Dialect:
    """SQL fragments for one database; `postgres` is False for SQLite."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres

    @staticmethod
    def of(conn: BaseDBAsyncClient) -> "Dialect":
        return POSTGRES if conn.capabilities.dialect == "postgres" else SQLITE

    # ---- parameters --------------------------------------------------------------------------

    def param(self, n: int, pg_type: str | None = None) -> str:
        """Placeholder of the n-th parameter (1-based; SQLite's numbered `?n` may repeat a parameter)."""
        if self.postgres:
            return f"${n}::{pg_type}" if pg_type else f"${n}"
        return f"?{n}"

    def value_rows(self, rows: int, width: int) -> str:
        """`(…), (…)` placeholders for `rows` rows of `width` parameters, numbered from 1 in row order."""
        if self.postgres:
            return ", ".join("(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(rows))
        row = "(" + ", ".join("?" * width) + ")"
        return ", ".join([row] * rows)

    def time_param(self, n: int) -> str:
        return self.param(n, "timestamptz")

    def text_param(self, n: int) -> str:
        return self.param(n, "text")

    def time_value(self, at: datetime) -> Any:
        """A parameter for a time: as stored in SQLite (UTC text), as is for PostgreSQL."""
        return at if self.postgres else at.astimezone(UTC).isoformat(" ")

    def in_ids(self, column: str, n: int) -> str:
        """`column` is one of the ids passed as parameter n (give it `ids_value(ids)`)."""
        if self.postgres:
            return f"{column} = ANY(${n}::bigint[])"
        return f"{column} IN (SELECT value FROM json_each(?{n}))"  # noqa: S608

    def ids_value(self, ids: list[int]) -> Any:
        return ids if self.postgres else orjson.dumps(ids).decode()

    # ---- expressions -------------------------------------------------------------------------

    def whole_days_between(self, later: str, earlier: str) -> str:
        """Whole days from `earlier` to `later` (SQL time expressions), rounded down."""
        if self.postgres:
            return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400) AS INTEGER)"
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"

    def json_object(self, *pairs: str) -> str:
        """A JSON object from alternating literal keys and SQL expressions."""
        args = ", ".join(f"'{item}'" if i % 2 == 0 else item for i, item in enumerate(pairs))
        return f"jsonb_build_object({args})" if self.postgres else f"json_object({args})"

    @property
    def json_true(self) -> str:
        return "true" if self.postgres else "json('true')"

    # ---- locks -------------------------------------------------------------------------------

    @property
    def key_share(self) -> str:
        """` FOR KEY SHARE` on PostgreSQL, the lock a foreign key check takes on the row it references, taken
        before inserting rows that will reference what the SELECT reads: a concurrent delete of one of those rows
        waits for this transaction, or has removed it from what the SELECT returns. Nothing on SQLite, where
        write transactions run one at a time."""
        return " FOR KEY SHARE" if self.postgres else ""


POSTGRES = Dialect(postgres=True)
SQLITE = Dialect(postgres=False)


def read_time(value: datetime | str | None) -> datetime | None:
    """A time column read by raw SQL: PostgreSQL gives a datetime, SQLite the text Tortoise stored."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def statement(build: Callable[[Dialect], str]) -> Callable[[BaseDBAsyncClient], str]:
    """A hand-written statement built once per dialect: `sql = LOOKUP(conn)` on the hot path."""
    built = cache(build)
    return lambda conn: built(Dialect.of(conn))
