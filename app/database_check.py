"""Start-up checks of the database: reachable, and migrated; each failure one line naming the setting.

Run by every command before it does anything else (app/cli.py), so a wrong host, port, database
name or password ends the command at once with a reason instead of a traceback or a hang.
"""

import os
import sqlite3

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

from app import direct_connection
from app.settings_errors import ConfigurationError, redact
from app.sqlite_client import SqliteFileUnusable, create_private_file

CONNECT_TIMEOUT_SECONDS = 10.0


class DatabaseNotMigrated(RuntimeError):
    pass


class RedisUnreachable(RuntimeError):
    """Redis did not answer a command that cannot do its work without it; ``str()`` is one line."""

    @classmethod
    def of(cls, url: str, exc: BaseException, consequence: str) -> "RedisUnreachable":
        reason = _first_line(exc)[:200] or "no answer"
        return cls(
            redact(f"KEYWARD_REDIS_URL={url!r}: cannot reach Redis ({type(exc).__name__}: {reason}); {consequence}")
        )


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [""])[0]


async def _ping_redis(url: str, wait_seconds: float) -> None:
    """PING once, within `wait_seconds`; raises what redis-py raises (or TimeoutError)."""
    import asyncio

    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=wait_seconds, socket_timeout=wait_seconds)
    try:
        async with asyncio.timeout(wait_seconds):
            await client.ping()
    finally:
        await client.aclose()


async def check_redis_accepts(url: str, wait_seconds: float = CONNECT_TIMEOUT_SECONDS) -> None:
    """A Redis that answers but refuses the URL (a wrong password or user, a database it does not have) is a
    `ConfigurationError`: no outage ends that. One that does not answer passes: the worker waits it out."""
    from redis.exceptions import AuthenticationError, ResponseError

    try:
        await _ping_redis(url, wait_seconds)
    except (AuthenticationError, ResponseError) as exc:  # NoPermissionError, "DB index is out of range", …
        reason = _first_line(exc)[:200]
        raise ConfigurationError(redact(f"KEYWARD_REDIS_URL={url!r}: Redis refused it ({reason})")) from None
    except Exception:  # noqa: S110 (not answering is an outage, not a setting: the caller waits it out)
        pass


async def check_redis(url: str, consequence: str, wait_seconds: float = CONNECT_TIMEOUT_SECONDS) -> None:
    """PING once, within `wait_seconds`; `RedisUnreachable` (saying `consequence`) when Redis does not answer."""
    try:
        await _ping_redis(url, wait_seconds)
    except Exception as exc:  # any failure to answer is the finding
        raise RedisUnreachable.of(url, exc, consequence) from None


def _problem(url: str, reason: str) -> ConfigurationError:
    return ConfigurationError(redact(f"KEYWARD_DATABASE_URL={url!r}: {reason}"))


def _check_sqlite(url: str, file_path: str) -> None:
    try:
        create_private_file(file_path)
        connection = sqlite3.connect(file_path)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except SqliteFileUnusable as exc:
        raise _problem(url, str(exc)) from None
    except sqlite3.Error as exc:
        raise _problem(url, f"cannot use the SQLite database {file_path!r}: {exc}") from None


async def _check_postgres(url: str, wait_seconds: float) -> None:
    credentials = expand_db_url(url)["credentials"]
    host, port = credentials.get("host") or "localhost", credentials.get("port") or 5432
    where = f"{host}:{port}"
    try:
        connection = await direct_connection.connect(url, wait_seconds)
    except asyncpg.InvalidCatalogNameError:
        raise _problem(url, f"database {credentials.get('database')!r} does not exist on {where}") from None
    except asyncpg.PostgresError as exc:
        raise _problem(url, f"{where} refused the connection: {' '.join(str(exc).split())}") from None
    except TimeoutError:
        raise _problem(url, f"no answer from {where} within {wait_seconds:g} s") from None
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else " ".join(str(exc).split())
        raise _problem(url, f"cannot connect to {where}: {reason}") from None
    await connection.close(timeout=wait_seconds)


async def check_database(url: str, wait_seconds: float = CONNECT_TIMEOUT_SECONDS) -> None:
    """Connect once (SQLite: create the file 0600 if needed); `ConfigurationError` when that fails."""
    if url.startswith("sqlite"):
        _check_sqlite(url, expand_db_url(url)["credentials"]["file_path"])
    else:
        await _check_postgres(url, wait_seconds)


async def unapplied_migrations(url: str) -> list[str]:
    from tortoise import Tortoise

    from app import db

    await Tortoise.init(config=db.tortoise_config(url))
    try:
        return await db.pending_migrations()
    finally:
        await Tortoise.close_connections()


async def check_migrated(url: str) -> None:
    try:
        pending = await unapplied_migrations(url)
    except Exception as exc:  # e.g. a role that may not read the migrations table: no proof of anything pending
        reason = " ".join(_first_line(exc).split())[:200]
        raise _problem(url, f"cannot read which migrations are applied ({type(exc).__name__}: {reason})") from None
    if pending:
        raise DatabaseNotMigrated(
            f"the database has {len(pending)} unapplied migration(s) ({', '.join(pending)}): "
            "run `keyward migrate` first"
        )
