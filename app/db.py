"""Database configuration, migrations and the readiness probe."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection

from app import migrating
from app.migrating.table_locks import TableLockWait
from app.settings import get_settings

if TYPE_CHECKING:
    from app.settings import Settings

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


@dataclass(frozen=True)
class DatabaseTimeouts:
    """Bounds on waiting for the database, so an outage is an error in seconds, never a hang.

    PostgreSQL: `connect` opening a connection, `acquire` getting one from the pool (creating the
    pool or a connection included), `statement` one statement: the server's `statement_timeout`,
    and on the client the same plus `CLIENT_MARGIN`, which also ends a wait on a server that does
    not answer at all (frozen, or the network gone) while the server's own timeout normally comes
    first and leaves the connection usable. SQLite: `acquire` is the busy timeout, the wait for
    another connection's lock; the others do not apply to a local file.
    """

    connect: float
    acquire: float
    statement: float

    CLIENT_MARGIN = 1.0

    @classmethod
    def from_settings(cls, settings: "Settings") -> "DatabaseTimeouts":
        return cls(
            connect=settings.database_connect_timeout_seconds,
            acquire=settings.database_acquire_timeout_seconds,
            statement=settings.database_statement_timeout_seconds,
        )


POSTGRES_SCHEMES = ("postgres", "postgresql", "asyncpg")
SQLITE_ENGINE = "app.sqlite_client"  # Tortoise's SQLite engine, with a private file (see there)


def connection_config(url: str, timeouts: DatabaseTimeouts | None = None) -> dict[str, Any]:
    config = expand_db_url(url)
    credentials = config["credentials"]
    if url.startswith("sqlite"):
        config["engine"] = SQLITE_ENGINE
        if timeouts is not None:
            credentials["busy_timeout"] = round(timeouts.acquire * 1000)
        return config
    if url.split(":", 1)[0] not in POSTGRES_SCHEMES:
        return config
    credentials["connection_class"] = PooledConnection
    # No floor of open connections: asyncpg restores a floor in the background and logs a traceback
    # for every failed attempt during an outage (app.db_outage and the worker's jobs log it once).
    credentials["minsize"] = 0
    if timeouts is not None:
        config["engine"] = "app.postgres_engine"
        credentials["timeout"] = timeouts.connect
        credentials["acquire_timeout"] = timeouts.acquire
        credentials["command_timeout"] = timeouts.statement + timeouts.CLIENT_MARGIN
        server_settings = dict(credentials.get("server_settings") or {})
        server_settings["statement_timeout"] = str(round(timeouts.statement * 1000))
        credentials["server_settings"] = server_settings
    return config


def tortoise_config(database_url: str | None = None, timeouts: DatabaseTimeouts | None = None) -> dict[str, Any]:
    """Tortoise's configuration; `timeouts` bound every wait (the API process), None keeps the drivers' defaults."""
    url = database_url or get_settings().database_url
    return {
        "connections": {"default": connection_config(url, timeouts)},
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


async def migrate(database_url: str | None = None) -> list[str]:
    """Apply every committed migration not applied yet (see app.migrating); the names applied."""
    settings = get_settings()
    url = database_url or settings.database_url
    table_locks = TableLockWait(
        timeout=settings.migrate_table_lock_timeout_seconds, attempts=settings.migrate_table_lock_attempts
    )
    return await migrating.migrate(
        tortoise_config(url), url, lock_timeout=settings.migrate_lock_timeout_seconds, table_locks=table_locks
    )


async def pending_migrations() -> list[str]:
    """Names of migrations not yet applied on the initialised default connection; a failure to read which are
    applied is raised (it is no proof that none is)."""
    from app.migrating.executor import strict_executor

    config = tortoise_config()
    executor = strict_executor(get_connection("default"), config["apps"])
    plan = await executor.plan()
    return [step.migration.name for step in plan]


async def ping() -> None:
    await get_connection("default").execute_query("SELECT 1")
