"""docs/operations.md's backup and restore commands, run as written.

SQLite: the online backup of a database that another connection keeps writing to is a consistent,
complete Keyward database (whole transactions only, every migration recorded). PostgreSQL: pg_dump of
a throwaway cluster's database, restored with pg_restore into a new database that Keyward reads.
"""

import asyncio
import glob
import os
import re
import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import asyncpg
import httpx
import pytest
from tortoise import Tortoise

from app import db
from tests.support.required_tools import tool_missing
from tests.support.serve_processes import run_keyward, serve
from tests.support.throwaway_services import throwaway_postgres

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "operations.md"
ROWS_PER_TRANSACTION = 50


def guide_block(name: str) -> str:
    match = re.search(rf"<!-- test: {re.escape(name)} -->\n```sh\n(.*?)```", GUIDE.read_text(), re.S)
    assert match, f"docs/operations.md has no block marked {name}"
    return match.group(1)


def run_block(name: str, cwd: Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", guide_block(name)],  # noqa: S607 (bash from PATH, as an operator runs it)
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"


class Writer(threading.Thread):
    """Writes transactions of ROWS_PER_TRANSACTION rows into the database until stopped."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.committed = 0
        self.stop = threading.Event()
        self.started_writing = threading.Event()

    def run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE IF NOT EXISTS backup_probe (id INTEGER PRIMARY KEY, payload TEXT)")
        connection.commit()
        while not self.stop.is_set():
            with connection:
                connection.executemany(
                    "INSERT INTO backup_probe (payload) VALUES (?)", [("x" * 2000,)] * ROWS_PER_TRANSACTION
                )
            self.committed += 1
            if self.committed >= 20:
                self.started_writing.set()
        connection.close()


async def _keyward_reads(url: str) -> list[str]:
    """The database's pending migrations, as Keyward sees them (Keyward can open it)."""
    await Tortoise.init(config=db.tortoise_config(url), _enable_global_fallback=True)
    try:
        return await db.pending_migrations()
    finally:
        await Tortoise.close_connections()


@pytest.mark.parametrize("block", ["sqlite-backup", "sqlite-backup-python"])
def test_the_sqlite_backup_of_a_database_being_written_is_consistent(tmp_path: Path, block: str) -> None:
    if block == "sqlite-backup" and shutil.which("sqlite3") is None:
        tool_missing("sqlite3", "`apt-get install sqlite3`")
    # given: a migrated Keyward database that another connection keeps writing to
    database = tmp_path / "keyward.sqlite3"
    asyncio.run(db.migrate(f"sqlite://{database}"))
    writer = Writer(database)
    writer.start()
    assert writer.started_writing.wait(timeout=60)
    try:
        # when: the guide's command runs while it writes
        before = writer.committed
        run_block(block, tmp_path)
        assert writer.is_alive() and writer.committed > before  # it kept writing meanwhile
    finally:
        writer.stop.set()
        writer.join(timeout=60)

    # then: a whole database with whole transactions, which Keyward opens with every migration applied
    backup = sqlite3.connect(tmp_path / "keyward-backup.sqlite3")
    assert backup.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = backup.execute("SELECT count(*) FROM backup_probe").fetchone()[0]
    backup.close()
    assert rows >= before * ROWS_PER_TRANSACTION
    assert rows % ROWS_PER_TRANSACTION == 0
    assert asyncio.run(_keyward_reads(f"sqlite://{tmp_path / 'keyward-backup.sqlite3'}")) == []


SIGN_UP = """mutation($input: SignUpInput!) { signUp(input: $input) { sessionToken userErrors { code } } }"""


def _seed(url: str) -> None:
    """A workspace made through the API of a real `keyward serve` on that database."""
    with serve(url) as server:
        answer = httpx.post(
            f"{server.base_url}/graphql",
            json={
                "query": SIGN_UP,
                "variables": {
                    "input": {
                        "email": "backup@example.com",
                        "password": "a long and unusual passphrase 9417",
                        "workspaceName": "Backed Up Ltd",
                    }
                },
            },
            timeout=30,
        )
    assert answer.json()["data"]["signUp"]["sessionToken"], answer.text


async def _workspace_names(url: str) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        return [row["name"] for row in await connection.fetch("SELECT name FROM workspace ORDER BY id")]
    finally:
        await connection.close()


async def test_pg_dump_and_pg_restore_as_the_guide_says(tmp_path: Path) -> None:
    if shutil.which("initdb") is None and not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        tool_missing("PostgreSQL's server binaries", "`apt-get install postgresql`")
    for program in ("pg_dump", "pg_restore", "psql"):
        if shutil.which(program) is None:
            tool_missing(program, "`apt-get install postgresql-client`")
    with throwaway_postgres() as pg:
        # given: a migrated database with a workspace in it
        await db.migrate(pg.url)
        _seed(pg.url)
        server = f"postgres://postgres@127.0.0.1:{pg.port}"
        env = {
            "KEYWARD_DATABASE_URL": pg.url,
            "POSTGRES_ADMIN_URL": f"{server}/postgres",
            "RESTORED_DATABASE_URL": f"{server}/keyward_restored",
        }
        # when: dumped and restored into a new database, with the guide's commands
        run_block("postgres-backup", tmp_path, env)
        run_block("postgres-restore", tmp_path, env)
        # then: the data is there, and Keyward finds every migration applied
        restored = f"{server}/keyward_restored"
        assert await _workspace_names(restored) == ["Backed Up Ltd"]
        status, output = await run_keyward(restored, None, "check")
    assert status == 0, output
    assert "reachable, every migration applied" in output
