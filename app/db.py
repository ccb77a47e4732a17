"""Database configuration, migrations and the readiness probe."""

from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate as migrate_api
from tortoise.migrations.executor import MigrationExecutor

from app.settings import get_settings

MODELS_MODULE = "app.models"
MIGRATIONS_MODULE = "app.migrations"


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """An asyncpg connection that goes back to the pool without a reset round trip.

    asyncpg sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` on every release:
    one more round trip per query outside a transaction, a request's third. Keyward never holds
    session state on a connection (no SET, LISTEN, cursors or session advisory locks; the sweep's
    lock is transaction-scoped), and asyncpg still rolls back a transaction left open.
    """

    def get_reset_query(self) -> str:
        return ""


def connection_config(url: str) -> str | dict[str, Any]:
    if not url.startswith(("postgres://", "asyncpg://")):
        return url
    config = expand_db_url(url)
    config["credentials"]["connection_class"] = PooledConnection
    return config


def tortoise_config(database_url: str | None = None) -> dict[str, Any]:
    url = database_url or get_settings().database_url
    return {
        "connections": {"default": connection_config(url)},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# What `tortoise --config app.db.TORTOISE_ORM makemigrations` reads.
TORTOISE_ORM = tortoise_config()


def is_embedded(database_url: str) -> bool:
    return database_url.startswith("sqlite")


async def migrate(database_url: str | None = None) -> None:
    """Apply every committed migration (Tortoise's own migration system)."""
    await migrate_api(config=tortoise_config(database_url))
    await Tortoise.close_connections()


async def pending_migrations() -> list[str]:
    """Names of migrations not yet applied on the initialised default connection."""
    config = tortoise_config()
    executor = MigrationExecutor(get_connection("default"), config["apps"])
    plan = await executor.plan()
    return [str(step) for step in plan]


async def ping() -> None:
    await get_connection("default").execute_query("SELECT 1")
