"""Running the app in a test: the client address, empty tables, settings from the environment, a module-wide app.

The permission matrix and the isolation tests reuse one workspace and its tokens across
hundreds of calls; `running_api` builds the app once per module to keep those tests fast.
"""

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
import pytest
from tortoise import Tortoise
from tortoise.connection import get_connection

from app.main import create_app
from app.settings import Settings, get_settings
from tests.support.api import Api

# The client address every ASGI test request comes from (TEST-NET-3, never a real host).
CLIENT_IP = "203.0.113.7"


async def empty_tables() -> None:
    connection = get_connection("default")
    tables = [model._meta.db_table for model in Tortoise.apps.get_models_iterable()]
    if connection.capabilities.dialect == "postgres":
        await connection.execute_script(f"TRUNCATE {', '.join(f'{chr(34)}{t}{chr(34)}' for t in tables)} CASCADE")
    else:
        await connection.execute_script("PRAGMA foreign_keys=OFF;" + "".join(f'DELETE FROM "{t}";' for t in tables))
        await connection.execute_script("PRAGMA foreign_keys=ON;")


@contextmanager
def keyward_env(database_url: str, **overrides: str) -> Iterator[Settings]:
    """KEYWARD_* settings for the block, as the service reads them (env, then get_settings())."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KEYWARD_DATABASE_URL", database_url)
        patch.delenv("KEYWARD_REDIS_URL", raising=False)
        patch.setenv("KEYWARD_WEBHOOK_DELIVERY_SECONDS", "0")  # tests deliver webhooks by hand
        patch.setenv("KEYWARD_SIGNUP", "open")  # tests sign up many workspaces (the default allows the first only)
        for name, value in overrides.items():
            patch.setenv(f"KEYWARD_{name.upper()}", value)
        get_settings.cache_clear()
        try:
            yield get_settings()
        finally:
            get_settings.cache_clear()


@asynccontextmanager
async def running_api(database_url: str, **overrides: str) -> AsyncIterator[Api]:
    """The ASGI app with its lifespan, on empty tables, behind an httpx client."""
    with keyward_env(database_url, **overrides) as settings:
        application = create_app(settings)
        async with application.router.lifespan_context(application):
            await empty_tables()
            transport = httpx.ASGITransport(app=application, client=(CLIENT_IP, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as http:
                yield Api(http)


def env_int(name: str, default: int) -> int:
    """Profile knobs (KEYWARD_LOAD_SECONDS, KEYWARD_FUZZ_EXAMPLES, ...): short in CI, longer on demand."""
    value = os.environ.get(name)
    return int(value) if value else default
