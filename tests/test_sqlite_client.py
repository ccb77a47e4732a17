"""Keyward's SQLite engine (app/sqlite_client.py): a connect that fails leaves the client usable, a
script inside a transaction stays inside it, and a transaction that read before another process wrote
still writes. Real SQLite files through Tortoise."""

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from app import db
from app.sqlite_client import SqliteFileUnusable, split_statements

# Guards against the hang this file is about; never reached when the engine works.
HANG_GUARD_SECONDS = 30


@pytest_asyncio.fixture
async def database(tmp_path: Path) -> AsyncIterator[Path]:
    folder = tmp_path / "later"
    await Tortoise.init(config=db.tortoise_config(f"sqlite://{folder / 'k.sqlite3'}"))
    try:
        yield folder
    finally:
        await Tortoise.close_connections()


async def test_a_failed_connect_names_the_folder_and_leaves_the_client_usable(database: Path) -> None:
    connection = get_connection("default")
    # given a database file whose folder does not exist: every query says why, none waits for ever
    for _ in range(2):
        with pytest.raises(SqliteFileUnusable, match="the folder .*later' does not exist"):
            await asyncio.wait_for(connection.execute_query("SELECT 1"), HANG_GUARD_SECONDS)
    # when the folder appears, then the same client connects
    await asyncio.to_thread(database.mkdir)
    assert (await asyncio.wait_for(connection.execute_query("SELECT 1 AS one"), HANG_GUARD_SECONDS))[1][0]["one"] == 1


async def test_a_script_in_a_failed_transaction_is_rolled_back_whole(database: Path) -> None:
    await asyncio.to_thread(database.mkdir)
    # when a transaction runs a two-statement script and then fails
    with pytest.raises(RuntimeError):
        async with in_transaction("default") as transaction:
            await transaction.execute_script("CREATE TABLE first_one (a INTEGER); CREATE TABLE second_one (b TEXT);")
            raise RuntimeError("after the DDL")
    # then neither table exists (Python's executescript would have committed both)
    _, rows = await get_connection("default").execute_query(
        "SELECT name FROM sqlite_master WHERE name IN ('first_one', 'second_one')"
    )
    assert rows == []


def test_statements_are_split_where_sqlite_ends_them() -> None:
    script = "CREATE TABLE t (a TEXT DEFAULT ';');\nINSERT INTO t VALUES ('x;y');\n-- done\n"
    assert split_statements(script) == [
        "CREATE TABLE t (a TEXT DEFAULT ';');",
        "INSERT INTO t VALUES ('x;y');",
        "-- done",
    ]


async def test_a_transaction_that_read_before_another_process_wrote_still_writes(tmp_path: Path) -> None:
    """Another process (`keyward serve --workers 2`, the worker, a CLI command) writing between a
    transaction's first read and its first write: SQLite answered the transaction SQLITE_BUSY at once,
    without the busy timeout (with two workers, 5 of 32 concurrent mutations were answered 503)."""
    path = tmp_path / "k.sqlite3"
    await Tortoise.init(config=db.tortoise_config(f"sqlite://{path}"))
    try:
        await get_connection("default").execute_script("CREATE TABLE t (who TEXT)")
        other_wrote = threading.Event()

        def other_process_writes() -> None:
            with contextlib.closing(sqlite3.connect(path, timeout=HANG_GUARD_SECONDS)) as other, other:
                other.execute("INSERT INTO t VALUES ('other')")
            other_wrote.set()

        # given a transaction that has read
        async with in_transaction("default") as connection:
            await connection.execute_query("SELECT count(*) FROM t")
            # when another process writes (it waits for this transaction, or commits before it writes)
            writer = asyncio.create_task(asyncio.to_thread(other_process_writes))
            await asyncio.sleep(0.3)
            # then this transaction's write is taken
            await connection.execute_query("INSERT INTO t VALUES ('this')")
        await asyncio.wait_for(writer, HANG_GUARD_SECONDS)
        rows = (await get_connection("default").execute_query("SELECT who FROM t ORDER BY who"))[1]
        assert [row["who"] for row in rows] == ["other", "this"]
    finally:
        await Tortoise.close_connections()
