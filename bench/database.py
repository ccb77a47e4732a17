"""The bench database: made empty, migrated with the project's own migrations, emptied between benchmarks."""

import os
import subprocess
import sys
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_TABLE = "tortoise_migrations"


def service_env(database_url: str, redis_url: str | None = None, **settings: str) -> dict[str, str]:
    """The environment of a Keyward process: the caller's own KEYWARD_* variables never leak in."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KEYWARD_")}
    env["KEYWARD_DATABASE_URL"] = database_url
    if redis_url:
        env["KEYWARD_REDIS_URL"] = redis_url
    # No sweep at some cron minute in the middle of a measurement; the sweep row runs it itself.
    env["KEYWARD_STALE_SWEEP_CRON"] = "off"
    env.update({f"KEYWARD_{name.upper()}": value for name, value in settings.items()})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


async def connect(database_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(database_url)


async def drop_schema(database_url: str) -> None:
    """For --database-url: the named database is emptied (only ever point it at a scratch database)."""
    conn = await connect(database_url)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


def migrate(database_url: str) -> None:
    """`keyward migrate`, as an operator runs it: the project's migrations, never hand-made tables."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "keyward", "migrate"],
        cwd=ROOT,
        env=service_env(database_url),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"keyward migrate failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


async def empty_tables(conn: asyncpg.Connection) -> None:
    """Every table the migrations made, except the migrations' own record, emptied with ids restarted."""
    tables = await conn.fetch(
        "SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename <> $1",
        MIGRATIONS_TABLE,
    )
    if tables:
        await conn.execute(f"TRUNCATE {', '.join(t['name'] for t in tables)} RESTART IDENTITY CASCADE")


async def vacuum_analyze(conn: asyncpg.Connection, *tables: str) -> None:
    for table in tables:
        await conn.execute(f"VACUUM ANALYZE {table}")
