"""Real services only: a migrated SQLite file or PostgreSQL (KEYWARD_TEST_DATABASE_URL), HTTP through the ASGI app."""

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from tortoise import Tortoise
from tortoise.connection import get_connection

from app import db
from app.main import create_app
from app.settings import Settings, get_settings
from tests.helpers import Api

CLIENT_IP = "203.0.113.7"


def _database_url(tmp_root: Path) -> str:
    return os.environ.get("KEYWARD_TEST_DATABASE_URL") or f"sqlite://{tmp_root / 'keyward-test.sqlite3'}"


async def _reset_postgres(url: str) -> None:
    await Tortoise.init(config=db.tortoise_config(url))
    await get_connection("default").execute_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await Tortoise.close_connections()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database migrated once per run with the committed migrations (so they are tested too)."""
    with tempfile.TemporaryDirectory(prefix="keyward-tests-") as tmp:
        url = _database_url(Path(tmp))
        if url.startswith("postgres"):
            asyncio.run(_reset_postgres(url))
        asyncio.run(db.migrate(url))
        yield url


@pytest.fixture
def settings(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("KEYWARD_DATABASE_URL", database_url)
    monkeypatch.delenv("KEYWARD_REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


async def _empty_tables() -> None:
    connection = get_connection("default")
    tables = [model._meta.db_table for model in Tortoise.apps.get_models_iterable()]
    if connection.capabilities.dialect == "postgres":
        await connection.execute_script(f'TRUNCATE {", ".join(f"{chr(34)}{t}{chr(34)}" for t in tables)} CASCADE')
    else:
        await connection.execute_script("PRAGMA foreign_keys=OFF;" + "".join(f'DELETE FROM "{t}";' for t in tables))
        await connection.execute_script("PRAGMA foreign_keys=ON;")


@pytest_asyncio.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await _empty_tables()
        yield application


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)
