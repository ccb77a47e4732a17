"""A PostgreSQL connection of its own, outside Tortoise's pool: for the migration lock (session state
a pooled connection must never hold) and the start-up check (a clean error, nothing to close)."""

from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

# What asyncpg.connect takes from the credentials Tortoise reads out of the URL.
_PASSED_ON = ("host", "port", "user", "password", "database", "ssl")


def connect_arguments(url: str) -> dict[str, Any]:
    credentials = expand_db_url(url)["credentials"]
    return {name: credentials[name] for name in _PASSED_ON if credentials.get(name) is not None}


async def connect(url: str, wait_seconds: float) -> asyncpg.Connection:
    return await asyncpg.connect(**connect_arguments(url), timeout=wait_seconds)
