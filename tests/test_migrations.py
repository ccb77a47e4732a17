"""Migrations behave like Django's and Rails': one migrator at a time, each migration with its record,
a failure in one line. The real CLI in subprocesses, on a fresh database of the run's kind (a new
SQLite file, or a throwaway database on the run's PostgreSQL server)."""

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from tests.support.fresh_database import (
    KEYWARD,
    MIGRATION_NAMES,
    ROOT,
    fresh_database,
    keyward,
    keyward_env,
    one_line_errors,
    query,
    recorded_migrations,
    run_postgres,
    tables,
)
from tests.support.serve_processes import serve_many
from tests.support.throwaway_services import throwaway_postgres

APPLIED_ALL = f"Applied {', '.join(MIGRATION_NAMES)}."
UP_TO_DATE = "Database is up to date."
# Tables that the first migration creates before the one the failure test puts in its way.
FIRST_TABLES = {"login_throttle", "person", "workspace", "management_token"}
# Tables of the newest schema (login_throttle gave way to attempt_counter).
NEWEST_TABLES = {"person", "workspace", "management_token", "api_key", "attempt_counter", "webhook_endpoint"}

# Stops a migrate where the old executor recorded a migration: after the migration's DDL, before
# its record. Tortoise's recorder is where both executors write the record.
STOP_BEFORE_THE_RECORD = """
import asyncio, os, pathlib, sys
from tortoise.migrations.recorder import MigrationRecorder

async def stop_before_the_record(self, app, name):
    pathlib.Path(sys.argv[2] + ".tmp").write_text(name)
    os.replace(sys.argv[2] + ".tmp", sys.argv[2])  # whole, or not there yet
    await asyncio.sleep(3600)

MigrationRecorder.record_applied = stop_before_the_record
from app import db
asyncio.run(db.migrate(sys.argv[1]))
"""


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        yield url


def assert_fully_migrated(url: str) -> None:
    assert recorded_migrations(url) == MIGRATION_NAMES
    assert NEWEST_TABLES <= tables(url)


def test_two_concurrent_migrates_on_a_fresh_database_both_succeed(database: str) -> None:
    # given two `keyward migrate` started together on a database with nothing in it
    env = keyward_env(database)
    command = [str(KEYWARD), "migrate"]
    runs = [
        subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
        for _ in range(2)
    ]
    # when both finish
    try:
        outputs = [run.communicate(timeout=180) for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:  # hung: fail, and leave nothing running
                run.kill()
                run.wait()
    # then both succeeded: one applied everything, the other waited and found nothing to do
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sorted(out.strip() for out, _ in outputs) == sorted([APPLIED_ALL, UP_TO_DATE]), outputs
    assert not any("Traceback" in err for _, err in outputs)
    assert_fully_migrated(database)


def test_a_migrate_killed_between_a_migration_and_its_record_is_finished_by_the_next(
    database: str, tmp_path: Path
) -> None:
    # given a migrate that has run the first migration's DDL and is about to record it
    marker = tmp_path / "about-to-record"
    migrate = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", STOP_BEFORE_THE_RECORD, database, str(marker)],
        env=keyward_env(database),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert migrate.poll() is None, "the migrate ended before recording"
            assert time.monotonic() < deadline, "the migrate never got to recording"
            time.sleep(0.05)
        assert marker.read_text() == MIGRATION_NAMES[0]
    finally:
        # when it is killed there
        os.kill(migrate.pid, signal.SIGKILL)
        migrate.wait()
    # then the next migrate applies every migration and the database is complete
    done = keyward("migrate", env=keyward_env(database))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == APPLIED_ALL
    assert_fully_migrated(database)


def test_a_failed_migration_exits_non_zero_in_one_line_and_is_rolled_back(database: str) -> None:
    # given a database where a table of the first migration is in the way
    setup = keyward_env(database)
    if database.startswith("sqlite"):
        query(database, "CREATE TABLE stale_token_report_entry (id INTEGER PRIMARY KEY)")
    else:
        query(database, "CREATE TABLE stale_token_report_entry (id integer PRIMARY KEY)")
    # when migrating
    done = keyward("migrate", env=setup, timeout=120)
    # then it exits non-zero at once, with one line naming the migration and the reason, no traceback
    assert done.returncode == 1, (done.stdout, done.stderr)
    errors = one_line_errors(done.stderr, "migrate")
    assert len(errors) == 1, done.stderr
    assert MIGRATION_NAMES[0] in errors[0] and "already exists" in errors[0]
    assert "Traceback" not in done.stderr
    # and nothing of the failed migration stayed, nor was it recorded
    assert not FIRST_TABLES & tables(database)
    assert recorded_migrations(database) == []
    # and once the obstacle is gone, the next migrate completes
    query(database, "DROP TABLE stale_token_report_entry")
    assert keyward("migrate", env=setup).returncode == 0
    assert_fully_migrated(database)


def test_migrate_says_what_it_applied(database: str) -> None:
    env = keyward_env(database)
    first = keyward("migrate", env=env)
    assert (first.returncode, first.stdout.strip()) == (0, APPLIED_ALL)
    second = keyward("migrate", env=env)
    assert (second.returncode, second.stdout.strip()) == (0, UP_TO_DATE)


@pytest.mark.skipif(run_postgres() is not None, reason="SQLite only: runs in the SQLite pass")
def test_serve_with_two_workers_on_a_fresh_sqlite_file_starts_both(tmp_path: Path) -> None:
    # given a fresh SQLite file; when `keyward serve --workers 2` starts on it
    url = f"sqlite://{tmp_path / 'fresh.sqlite3'}"
    with serve_many(1, url, log_level="info", workers=2) as (server,):
        # then both workers finish their start-up
        deadline = time.monotonic() + 120
        while server.log().count("Application startup complete.") < 2:
            assert server.process.poll() is None, server.log()
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.2)
        assert "Traceback" not in server.log()
    assert_fully_migrated(url)


@pytest.mark.skipif(run_postgres() is not None, reason="SQLite only: runs in the SQLite pass")
@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_the_sqlite_files_are_created_owner_only_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    # given a umask that would leave new files readable by others; when a migrate creates the
    # database, and a connection that writes through the write-ahead log is still open
    url = f"sqlite://{tmp_path / 'keyward.sqlite3'}"
    script = """
import asyncio, json, os, sys
from tortoise import Tortoise
from tortoise.connection import get_connection
from app import db

async def main():
    await db.migrate(sys.argv[1])
    await Tortoise.init(config=db.tortoise_config(sys.argv[1]))
    await get_connection("default").execute_query("CREATE TABLE wal_probe (a INTEGER)")
    print(json.dumps({name: os.stat(os.path.join(sys.argv[2], name)).st_mode for name in os.listdir(sys.argv[2])}))
    await Tortoise.close_connections()

asyncio.run(main())
"""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script, url, str(tmp_path)],
        env=keyward_env(url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(umask),  # noqa: PLW1509
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modes = {name: stat.S_IMODE(mode) for name, mode in json.loads(done.stdout.splitlines()[-1]).items()}
    # then the database, its -wal and -shm files and the migration lock are readable by the owner only
    assert modes == dict.fromkeys(modes, 0o600)
    assert {"keyward.sqlite3", "keyward.sqlite3-wal", "keyward.sqlite3-shm", "keyward.sqlite3.migrate-lock"} <= set(
        modes
    )


def test_a_migrations_table_that_cannot_be_read_is_said_so_and_not_taken_for_nothing_applied(tmp_path: Path) -> None:
    if run_postgres() is None:
        pytest.skip("a role of the test's own on a PostgreSQL cluster of its own (the PostgreSQL pass)")
    with throwaway_postgres() as pg:
        # given a migrated database, and a role that may read every table but the migrations' own
        assert keyward("migrate", env=keyward_env(pg.url), cwd=tmp_path).returncode == 0
        for statement in (
            "CREATE ROLE reader LOGIN",
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader",
            "REVOKE SELECT ON tortoise_migrations FROM reader",
        ):
            query(pg.url, statement)
        env = keyward_env(pg.url.replace("postgres@", "reader@", 1))
        # when the commands that check the migrations start with it
        for command in ("serve", "stale-sweep"):
            done = keyward(command, env=env, cwd=tmp_path, timeout=60)
            # then they say they cannot read them (they said every migration was pending: run keyward migrate)
            output = done.stdout + done.stderr
            assert done.returncode == 1, output
            [error] = one_line_errors(done.stderr, command)
            assert "cannot read which migrations are applied" in error and "permission denied" in error, output
            assert "unapplied" not in output and "Traceback" not in output
        done = keyward("check", env=env, cwd=tmp_path, timeout=60)
        assert done.returncode == 1 and "cannot read which migrations are applied" in done.stderr, done.stderr
        assert "pending migration" not in done.stdout + done.stderr


# ---- a migration behind a long transaction (PostgreSQL) ----------------------------------------------
# Migration 0008 adds a table with a foreign key to api_key: it needs a SHARE ROW EXCLUSIVE lock
# on api_key, which any transaction that has written api_key holds it from.
FOREIGN_KEY_MIGRATION = "0008_stale_report_api_keys"
ITS_TABLE = "stale_token_report_api_key"
# It and the migrations after it, newest first, each with what undoes it.
UNDONE_MIGRATIONS = [
    ("0009_session_opened_by", "ALTER TABLE session DROP COLUMN opened_by_id"),
    (FOREIGN_KEY_MIGRATION, f"DROP TABLE {ITS_TABLE}"),
]


@pytest.fixture
def postgres_database(tmp_path: Path) -> Iterator[str]:
    if run_postgres() is None:
        pytest.skip("PostgreSQL's lock queue: SQLite has one lock for the whole file, waited for by its busy timeout")
    with fresh_database(tmp_path) as url:
        # given a database as the release before the foreign-key migration left it (the later ones undone too)
        assert keyward("migrate", env=keyward_env(url)).returncode == 0
        for name, undo in UNDONE_MIGRATIONS:
            query(url, undo)
            query(url, f"DELETE FROM tortoise_migrations WHERE name = '{name}'")
        yield url


@asynccontextmanager
async def a_long_transaction_that_wrote_api_key(url: str) -> AsyncIterator[None]:
    holder = await asyncpg.connect(url, timeout=10)
    try:
        async with holder.transaction():
            await holder.execute("LOCK TABLE api_key IN ROW EXCLUSIVE MODE")  # what an UPDATE of a row takes
            yield
    finally:
        await holder.close()


async def start_migrate(url: str, **settings: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(KEYWARD),
        "migrate",
        env=keyward_env(url, **settings),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finished(migrate: asyncio.subprocess.Process, within: float = 60) -> tuple[str, str]:
    try:
        async with asyncio.timeout(within):
            out, err = await migrate.communicate()
    except TimeoutError:
        migrate.kill()
        await migrate.wait()
        raise AssertionError(f"keyward migrate still waiting after {within:g} s") from None
    return out.decode(), err.decode()


async def test_a_migration_waiting_behind_a_long_transaction_never_holds_the_services_writes(
    postgres_database: str,
) -> None:
    url = postgres_database
    # the service's connection gives up on a statement after 4 s, as KEYWARD_DATABASE_STATEMENT_TIMEOUT would
    service = await asyncpg.connect(url, timeout=10, server_settings={"statement_timeout": "4000"})
    try:
        async with a_long_transaction_that_wrote_api_key(url):
            # when a migrate starts and queues for its lock on api_key
            migrate = await start_migrate(url, migrate_table_lock_timeout_seconds="1", migrate_table_lock_attempts="60")
            try:
                for _ in range(400):
                    waiting = await service.fetchval(
                        "SELECT count(*) FROM pg_locks WHERE relation = 'api_key'::regclass AND NOT granted"
                    )
                    if waiting:
                        break
                    await asyncio.sleep(0.05)
                assert waiting, "the migrate never queued for api_key"
                # then the service still writes api_key: it waits at most the migration's 1 s, not for the
                # long transaction to end (the UPDATE queued behind the migration would hit its 4 s timeout)
                await service.execute("UPDATE api_key SET name = name WHERE id = 0")
            except BaseException:
                migrate.kill()
                await migrate.wait()
                raise
            # and when the long transaction ends ...
        # ... the migrate, still trying, applies the migration
        out, err = await finished(migrate)
    finally:
        await service.close()
    assert migrate.returncode == 0, err
    assert out.strip() == f"Applied {', '.join(name for name, _ in reversed(UNDONE_MIGRATIONS))}."
    assert "another transaction holds a lock on its tables" in err and "Traceback" not in err
    await asyncio.to_thread(assert_fully_migrated, url)  # (the helpers run a loop of their own)


async def test_a_migration_that_never_gets_its_locks_gives_up_in_one_line_and_changes_nothing(
    postgres_database: str,
) -> None:
    url = postgres_database
    async with a_long_transaction_that_wrote_api_key(url):
        migrate = await start_migrate(url, migrate_table_lock_timeout_seconds="0.5", migrate_table_lock_attempts="2")
        out, err = await finished(migrate, within=30)
    assert migrate.returncode == 1, (out, err)
    [error] = one_line_errors(err, "migrate")
    assert FOREIGN_KEY_MIGRATION in error and "could not lock its tables" in error, error
    assert "Traceback" not in err
    assert FOREIGN_KEY_MIGRATION not in await asyncio.to_thread(recorded_migrations, url)
    assert ITS_TABLE not in await asyncio.to_thread(tables, url)
