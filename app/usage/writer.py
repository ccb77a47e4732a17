"""Writing buffered uses to the database: one set-based UPDATE per table per batch.

``bulk_update`` would overwrite; these statements keep the newer time (the WHERE guard), so a
replayed or out-of-order batch never moves ``last_used_at`` backwards. The IP is written together
with the time it belongs to, and a management token that was used loses its stale flag.
"""

from collections.abc import Sequence
from typing import Any

from tortoise import BaseDBAsyncClient
from tortoise.connection import get_connection

from app.sql_dialect import Dialect
from app.usage.model import UsageKind, Use, newest

# Table per kind, and what else a use changes there. Table names are ours, never user input.
_TABLES: dict[UsageKind, tuple[str, str]] = {
    UsageKind.MANAGEMENT_TOKEN: ("management_token", ", stale_since = NULL"),
    UsageKind.API_KEY: ("api_key", ""),
}


def _postgres(d: Dialect, table: str, extra: str, uses: Sequence[Use]) -> tuple[str, list[Any]]:
    sql = (
        f"UPDATE {table} AS t SET last_used_at = v.used_at, last_used_ip = v.ip{extra} "  # noqa: S608
        f"FROM unnest({d.param(1, 'bigint[]')}, {d.param(2, 'timestamptz[]')}, {d.param(3, 'text[]')}) "
        "AS v(id, used_at, ip) "
        "WHERE t.id = v.id AND (t.last_used_at IS NULL OR t.last_used_at < v.used_at)"
    )
    return sql, [[u.id for u in uses], [u.at for u in uses], [u.ip for u in uses]]


def _sqlite(d: Dialect, table: str, extra: str, uses: Sequence[Use]) -> tuple[str, list[Any]]:
    # Times as SQLite stores them (sql_dialect): the newer-time guard compares them as text.
    sql = (
        f"WITH v(id, used_at, ip) AS (VALUES {d.value_rows(len(uses), 3)}) "  # noqa: S608
        f"UPDATE {table} SET last_used_at = v.used_at, last_used_ip = v.ip{extra} FROM v "
        f"WHERE {table}.id = v.id AND ({table}.last_used_at IS NULL OR {table}.last_used_at < v.used_at)"
    )
    params: list[Any] = []
    for use in uses:
        params += [use.id, d.time_value(use.at), use.ip]
    return sql, params


def by_kind(uses: Sequence[Use]) -> dict[UsageKind, list[Use]]:
    """The newest use per credential, grouped by the table it is written to."""
    grouped: dict[UsageKind, list[Use]] = {}
    for use in newest(uses).values():
        grouped.setdefault(use.kind, []).append(use)
    return grouped


async def write_kind(kind: UsageKind, uses: Sequence[Use], connection: BaseDBAsyncClient | None = None) -> int:
    """One statement for uses of one kind (one use per credential); returns the number of rows changed."""
    conn = connection or get_connection("default")
    d = Dialect.of(conn)
    build = _postgres if d.postgres else _sqlite
    table, extra = _TABLES[kind]
    sql, params = build(d, table, extra, uses)
    count, _ = await conn.execute_query(sql, params)
    return int(count)
