"""A database with nothing in it, of the kind this run tests: a new SQLite file, or (when
KEYWARD_TEST_DATABASE_URL is PostgreSQL) a throwaway database created on that server and dropped
after the test. Plus what the migration tests read back from it, through the drivers themselves.
"""

import asyncio
import os
import re
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parent.parent.parent
KEYWARD = Path(sys.executable).parent / "keyward"
MIGRATION_NAMES = sorted(p.stem for p in (ROOT / "app" / "migrations").glob("[0-9][0-9][0-9][0-9]_*.py"))


def run_postgres() -> str | None:
    url = os.environ.get("KEYWARD_TEST_DATABASE_URL", "")
    return url if url.startswith("postgres") else None


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url.replace("asyncpg://", "postgres://", 1), timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def fresh_database(tmp_path: Path) -> Iterator[str]:
    server = run_postgres()
    if server is None:
        yield f"sqlite://{tmp_path / 'fresh.sqlite3'}"
        return
    name = f"kw_fresh_{secrets.token_hex(4)}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(server, name)
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite://"))
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()

    async def fetch() -> list[tuple[Any, ...]]:
        connection = await asyncpg.connect(url, timeout=10)
        try:
            return [tuple(row) for row in await connection.fetch(sql)]
        finally:
            await connection.close()

    return asyncio.run(fetch())


def tables(url: str) -> set[str]:
    if url.startswith("sqlite"):
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return {row[0] for row in query(url, sql)}


def recorded_migrations(url: str) -> list[str]:
    if "tortoise_migrations" not in tables(url):
        return []
    return sorted(row[0] for row in query(url, "SELECT name FROM tortoise_migrations"))


def keyward_env(database_url: str, **settings: str) -> dict[str, str]:
    """This process's environment without its KEYWARD_* variables, plus the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYWARD_")}
    env["KEYWARD_DATABASE_URL"] = database_url
    env.update({f"KEYWARD_{k.upper()}": v for k, v in settings.items()})
    return env


def keyward(
    *args: str, env: dict[str, str], cwd: Path = ROOT, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI; a hang fails the test at `timeout` instead of hanging the suite."""
    return subprocess.run(  # noqa: S603
        [str(KEYWARD), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def one_line_errors(stderr: str, command: str) -> list[str]:
    """The `keyward <command>: …` lines of stderr (log lines have a timestamp and are left out)."""
    return [line for line in stderr.splitlines() if re.match(rf"keyward {re.escape(command)}: ", line)]
