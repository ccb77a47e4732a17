"""Counting what the service sends to PostgreSQL, from `pg_stat_statements`.

`calls` there counts executions (prepared or not) per normalised statement. The counts are
limited to the bench database, and the harness's own reads of the view (the only statements the
harness sends while a count runs) are left out by their text.
"""

from dataclasses import dataclass

import asyncpg

# Any statement that UPDATEs the management_token table (the flush's set-based UPDATE, the
# per-request variant's single-row UPDATE), wherever it appears in the statement text.
UPDATE_TOKENS = r'\mupdate\s+("?public"?\.)?"?management_token"?\M'

_SCOPE = (
    "dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT ILIKE '%pg_stat_statements%'"
)


class StatementCounter:
    """Reset, let the service work, read. `available` is False when the extension cannot be used."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.available = False
        self.reason = ""

    @classmethod
    async def open(cls, database_url: str) -> "StatementCounter":
        counter = cls(await asyncpg.connect(database_url))
        try:
            await counter.conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            await counter.conn.execute("SELECT pg_stat_statements_reset()")
            await counter.conn.fetchval("SELECT count(*) FROM pg_stat_statements")
            counter.available = True
        except asyncpg.PostgresError as exc:
            counter.reason = f"pg_stat_statements is not usable on this server: {exc}"
        return counter

    async def close(self) -> None:
        await self.conn.close()

    async def reset(self) -> None:
        if self.available:
            await self.conn.execute("SELECT pg_stat_statements_reset()")

    async def all_statements(self) -> int | None:
        """Executions of every statement in the bench database since the last reset (None: not measurable)."""
        if not self.available:
            return None
        return int(
            await self.conn.fetchval(f"SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE {_SCOPE}")  # noqa: S608
        )

    async def token_updates(self) -> int | None:
        """Executions of UPDATE statements on management_token since the last reset."""
        if not self.available:
            return None
        return int(
            await self.conn.fetchval(
                f"SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE {_SCOPE} AND query ~* $1",  # noqa: S608
                UPDATE_TOKENS,
            )
        )

    async def top(self, limit: int = 5) -> list[dict[str, object]]:
        """The most executed statements since the last reset (for the JSON details)."""
        if not self.available:
            return []
        rows = await self.conn.fetch(
            f"SELECT calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query FROM pg_stat_statements "  # noqa: S608
            f"WHERE {_SCOPE} ORDER BY calls DESC LIMIT $1",
            limit,
        )
        return [{"calls": int(row["calls"]), "query": row["query"]} for row in rows]

    async def matching(self, pattern: str) -> int | None:
        """Executions of statements whose text matches `pattern` (a case-insensitive regular expression)."""
        if not self.available:
            return None
        return int(
            await self.conn.fetchval(
                f"SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE {_SCOPE} AND query ~* $1",  # noqa: S608
                pattern,
            )
        )

    async def token_update_work(self) -> "Work | None":
        """Executions, rows, execution time and WAL of the UPDATEs on management_token since the last reset."""
        if not self.available:
            return None
        row = await self.conn.fetchrow(
            "SELECT coalesce(sum(calls), 0) AS calls, coalesce(sum(total_exec_time), 0) AS ms, "  # noqa: S608
            "coalesce(sum(rows), 0) AS rows, coalesce(sum(wal_bytes), 0) AS wal, coalesce(sum(wal_fpi), 0) AS fpi "
            f"FROM pg_stat_statements WHERE {_SCOPE} AND query ~* $1",
            UPDATE_TOKENS,
        )
        assert row is not None
        return Work(int(row["calls"]), int(row["rows"]), float(row["ms"]), int(row["wal"]), int(row["fpi"]))

    async def pay_full_page_images(self, workspace_id: int) -> None:
        """A CHECKPOINT, then a change of every token row of the workspace, so that what is counted next
        writes no full-page image. Both sides of a comparison start here: a full-page image is paid once
        per page per checkpoint, whatever number of changes follow, so it belongs to neither way of
        writing (counted, they made the batched side's WAL look 20 × smaller than the variant's instead of 77 ×)."""
        await self.conn.execute("CHECKPOINT")  # the next change of each page writes the whole page once
        await self.conn.execute(
            "UPDATE management_token SET last_used_at = last_used_at WHERE workspace_id = $1", workspace_id
        )

    async def wal_position(self) -> str:
        """The cluster's current WAL position (for `wal_bytes_since`)."""
        return str(await self.conn.fetchval("SELECT pg_current_wal_lsn()::text"))

    async def wal_bytes_since(self, position: str) -> int:
        """WAL the whole cluster wrote since `position`: every statement, commit records included."""
        return int(await self.conn.fetchval("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn)", position))


@dataclass(frozen=True)
class Work:
    """What a set of statements cost the database (pg_stat_statements)."""

    statements: int
    rows: int  # row versions written: a batched flush writes one per token used since the last one
    exec_ms: float
    wal_bytes: int
    full_page_images: int  # of wal_bytes: whole pages written at their first change after a checkpoint

    def as_dict(self) -> dict[str, object]:
        return {
            "statements": self.statements,
            "rows": self.rows,
            "exec_ms": round(self.exec_ms, 3),
            "wal_bytes": self.wal_bytes,
            "full_page_images": self.full_page_images,
        }
