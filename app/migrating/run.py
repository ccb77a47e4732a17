"""`migrate(url)`: take the migration lock, apply what is pending, always close what was opened."""

from tortoise import Tortoise
from tortoise.connection import get_connection

from app.migrating.executor import DEFAULT_TABLE_LOCK_WAIT, AtomicMigrationExecutor
from app.migrating.lock import migration_lock
from app.migrating.table_locks import TableLockWait

DEFAULT_LOCK_TIMEOUT_SECONDS = 600.0


async def migrate(
    config: dict,  # type: ignore[type-arg]
    url: str,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
    table_locks: TableLockWait = DEFAULT_TABLE_LOCK_WAIT,
) -> list[str]:
    """Apply every pending migration of `config`'s default connection; the names applied, in order.

    `lock_timeout`: the wait for another migrator; `table_locks`: each migration's wait for its tables."""
    async with migration_lock(url, lock_timeout):
        await Tortoise.init(config=config, init_connections=False)
        try:
            executor = AtomicMigrationExecutor(get_connection("default"), config["apps"], table_locks)
            return await executor.apply_pending()
        finally:
            await Tortoise.close_connections()
