"""`migrate(url)`: take the migration lock, apply what is pending, always close what was opened."""

from tortoise import Tortoise
from tortoise.connection import get_connection

from app.migrating.executor import AtomicMigrationExecutor
from app.migrating.lock import migration_lock

DEFAULT_LOCK_TIMEOUT_SECONDS = 600.0


async def migrate(config: dict, url: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS) -> list[str]:  # type: ignore[type-arg]
    """Apply every pending migration of `config`'s default connection; the names applied, in order."""
    async with migration_lock(url, lock_timeout):
        await Tortoise.init(config=config, init_connections=False)
        try:
            executor = AtomicMigrationExecutor(get_connection("default"), config["apps"])
            return await executor.apply_pending()
        finally:
            await Tortoise.close_connections()
