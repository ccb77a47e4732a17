"""Tortoise's migration executor, with each migration and its record in one transaction.

Tortoise 1.1 applies a migration in a transaction and records it after that transaction has
committed, on another connection: a process killed in between leaves the migration's tables in
place and unrecorded, and every later migrate fails on "already exists". Here the record is
written by the migration's own transaction, so both commit or neither does (PostgreSQL and SQLite
both roll back DDL; `app.sqlite_client` keeps SQLite's scripts inside the transaction).

Only forward migrations to the newest state, which is all `keyward migrate` does. Built on the
executor's graph, plan and state helpers (pinned by the lock files).
"""

import asyncio
import logging

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations.executor import MigrationExecutor
from tortoise.migrations.graph import MigrationKey
from tortoise.migrations.loader import MigrationLoader
from tortoise.migrations.migration import Migration
from tortoise.migrations.recorder import MigrationRecorder
from tortoise.migrations.schema_generator.state import State
from tortoise.transactions import in_transaction

from app.migrating.table_locks import TableLockWait, is_lock_wait_ended

log = logging.getLogger("keyward.migrate")

# Without settings (tests, tools): 5 s per attempt, 10 attempts, as KEYWARD_MIGRATE_TABLE_LOCK_* default to.
DEFAULT_TABLE_LOCK_WAIT = TableLockWait(timeout=5.0, attempts=10)


class MigrationFailed(RuntimeError):
    """A migration failed and was rolled back; the message names it, in one line."""


class StrictRecorder(MigrationRecorder):
    """Reads the applied migrations without taking a failed read for "none applied": only a database without
    the migrations table has none (Tortoise's own recorder answers "none" to any error, a timeout or a
    permission refused, and every migration then looked pending)."""

    async def applied_migrations(self) -> list[MigrationKey]:
        if not await self._table_exists():
            return []
        _, rows = await self.connection.execute_query(
            f'SELECT "app", "name" FROM "{self.table_name}" ORDER BY "applied_at", "app", "name"'  # noqa: S608
        )
        return [MigrationKey(app_label=row["app"], name=row["name"]) for row in rows]

    async def _table_exists(self) -> bool:
        if self.connection.capabilities.dialect == "postgres":
            sql, args = "SELECT to_regclass($1) IS NOT NULL AS found", [self.table_name]
        else:
            sql, args = (
                "SELECT count(*) > 0 AS found FROM sqlite_master WHERE type = 'table' AND name = ?",
                [self.table_name],
            )
        _, rows = await self.connection.execute_query(sql, args)
        return bool(rows[0]["found"])


def strict_executor(connection: BaseDBAsyncClient, apps_config: dict[str, dict]) -> MigrationExecutor:  # type: ignore[type-arg]
    """Tortoise's executor for reading the plan, with the `StrictRecorder`."""
    executor = MigrationExecutor(connection, apps_config)
    executor.recorder = StrictRecorder(connection)
    executor.loader = MigrationLoader(apps_config, executor.recorder, load=False)
    return executor


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "no message"
    return f"{type(exc).__name__}: {text}"


class AtomicMigrationExecutor(MigrationExecutor):
    def __init__(
        self,
        connection: BaseDBAsyncClient,
        apps_config: dict[str, dict],  # type: ignore[type-arg]
        table_locks: TableLockWait = DEFAULT_TABLE_LOCK_WAIT,
    ) -> None:
        super().__init__(connection, apps_config)
        self.recorder = StrictRecorder(connection)
        self.loader = MigrationLoader(apps_config, self.recorder, load=False)
        self.table_locks = table_locks

    async def apply_pending(self) -> list[str]:
        """Apply every migration not applied yet, each in a transaction with its record; their names."""
        await self.recorder.ensure_schema(self._schema_editor(atomic=False))
        await self.loader.build_graph()
        applied = set(await self.recorder.applied_migrations())
        plan = self._migration_plan(None, applied, self.loader.graph)
        if not plan:
            return []
        state = await self._project_state(applied)
        done: list[str] = []
        for step in plan:
            state = await self._apply_with_its_record(step.migration, state, done)
            done.append(step.migration.name)
        return done

    async def _apply_with_its_record(self, migration: Migration, state: State, done: list[str]) -> State:
        """Apply `migration` and record it in one transaction; the state after it.

        A transaction whose wait for a table lock ran out is rolled back and tried again (`TableLockWait`),
        from a copy of the state before it, so that a retry starts from where the first try did."""
        locks = self.table_locks
        for attempt in range(1, locks.attempts + 1):
            editor = self._schema_editor(atomic=True)
            if not editor.atomic_migration:
                raise MigrationFailed(f"{migration.name}: this database cannot roll back DDL; refusing to migrate")
            after = state.clone()
            try:
                async with in_transaction(self.connection.connection_name) as transaction:
                    await locks.bound(transaction)
                    editor.client = transaction
                    await migration.apply(after, schema_editor=editor)
                    await MigrationRecorder(transaction, table_name=self.recorder.table_name).record_applied(
                        migration.app_label, migration.name
                    )
                return after
            except Exception as exc:
                applied_note = f" (applied before it: {', '.join(done)})" if done else ""
                if not is_lock_wait_ended(exc):
                    raise MigrationFailed(
                        f"migration {migration.name} failed and was rolled back{applied_note}: {_one_line(exc)}"
                    ) from exc
                if attempt == locks.attempts:
                    raise MigrationFailed(
                        f"migration {migration.name} could not lock its tables: another transaction held them "
                        f"through {locks.attempts} waits of {locks.timeout:g} s (KEYWARD_MIGRATE_TABLE_LOCK_*); "
                        f"it was rolled back{applied_note}. pg_stat_activity shows the long transaction"
                    ) from exc
                log.warning(
                    "migration %s: another transaction holds a lock on its tables; rolled back after %g s, "
                    "trying again in %g s (attempt %d of %d)",
                    migration.name,
                    locks.timeout,
                    locks.pause,
                    attempt + 1,
                    locks.attempts,
                )
                await asyncio.sleep(locks.pause)
        raise AssertionError("unreachable: the last attempt returns or raises")
