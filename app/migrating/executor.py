"""Tortoise's migration executor, with each migration and its record in one transaction.

Tortoise 1.1 applies a migration in a transaction and records it after that transaction has
committed, on another connection: a process killed in between leaves the migration's tables in
place and unrecorded, and every later migrate fails on "already exists". Here the record is
written by the migration's own transaction, so both commit or neither does (PostgreSQL and SQLite
both roll back DDL; `app.sqlite_client` keeps SQLite's scripts inside the transaction).

Only forward migrations to the newest state, which is all `keyward migrate` does. Built on the
executor's graph, plan and state helpers (pinned by the lock files).
"""

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations.executor import MigrationExecutor
from tortoise.migrations.graph import MigrationKey
from tortoise.migrations.loader import MigrationLoader
from tortoise.migrations.recorder import MigrationRecorder
from tortoise.transactions import in_transaction


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
    def __init__(self, connection: BaseDBAsyncClient, apps_config: dict[str, dict]) -> None:  # type: ignore[type-arg]
        super().__init__(connection, apps_config)
        self.recorder = StrictRecorder(connection)
        self.loader = MigrationLoader(apps_config, self.recorder, load=False)

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
            migration = step.migration
            editor = self._schema_editor(atomic=True)
            if not editor.atomic_migration:
                raise MigrationFailed(f"{migration.name}: this database cannot roll back DDL; refusing to migrate")
            try:
                async with in_transaction(self.connection.connection_name) as transaction:
                    editor.client = transaction
                    await migration.apply(state, schema_editor=editor)
                    await MigrationRecorder(transaction, table_name=self.recorder.table_name).record_applied(
                        migration.app_label, migration.name
                    )
            except Exception as exc:
                applied_note = f" (applied before it: {', '.join(done)})" if done else ""
                raise MigrationFailed(
                    f"migration {migration.name} failed and was rolled back{applied_note}: {_one_line(exc)}"
                ) from exc
            done.append(migration.name)
        return done
