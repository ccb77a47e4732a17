"""Real services only: a migrated SQLite file or PostgreSQL (KEYWARD_TEST_DATABASE_URL), HTTP through the ASGI app."""

import asyncio
import os
import shutil
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
from tests.support.api import Api
from tests.support.app_clock import app_clock  # noqa: F401 (a fixture for every test module)
from tests.support.attempt_clock import attempt_clock  # noqa: F401 (a fixture for every test module)
from tests.support.required_tools import summary_lines, tool_missing
from tests.support.running_app import CLIENT_IP, empty_tables
from tests.support.throwaway_services import throwaway_redis


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One loud line per program that was missing, so skipped tests cannot go unnoticed."""
    for line in summary_lines():
        terminalreporter.write_line(f"!!! {line}", red=True, bold=True)


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
    # Background flushes and sweeps would race the tests' own: tests flush and sweep explicitly
    # (and through the lifespan's final flush).
    monkeypatch.setenv("KEYWARD_USAGE_FLUSH_SECONDS", "3600")
    monkeypatch.setenv("KEYWARD_STALE_SWEEP_CRON", "off")
    monkeypatch.setenv("KEYWARD_WEBHOOK_DELIVERY_SECONDS", "0")
    # Tests make many workspaces by signing up; the sign-up policy tests set their own policy.
    monkeypatch.setenv("KEYWARD_SIGNUP", "open")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest_asyncio.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await empty_tables()
        yield application


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)


# ---- Redis: the suite's own redis-server, or KEYWARD_TEST_REDIS_URL; flushed around every test ----------


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """KEYWARD_TEST_REDIS_URL when given (a database of a server you chose, emptied by the tests); else a
    redis-server of the suite's own, on a port of KEYWARD_TEST_PORTS in a temporary folder, for the run."""
    url = os.environ.get("KEYWARD_TEST_REDIS_URL")
    if url:
        yield url
        return
    if shutil.which("redis-server") is None:
        tool_missing("redis-server", "`apt-get install redis-server`, or set KEYWARD_TEST_REDIS_URL")
    with throwaway_redis() as server:
        yield server.url


@pytest.fixture
def redis_url(redis_server_url: str) -> Iterator[str]:
    """The test's Redis, empty at the start and emptied at the end."""
    import redis

    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()
    yield redis_server_url
    client.flushdb()
    client.close()


@pytest.fixture
def redis_settings(settings: Settings, redis_url: str) -> Settings:
    return settings.model_copy(update={"redis_url": redis_url})


@pytest_asyncio.fixture
async def redis_app(redis_settings: Settings) -> AsyncIterator[Starlette]:
    """The API as it runs beside a worker: usage goes to Redis, the worker flushes it."""
    application = create_app(redis_settings)
    async with application.router.lifespan_context(application):
        await empty_tables()
        yield application


@pytest_asyncio.fixture
async def redis_api(redis_app: Starlette) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=redis_app, client=(CLIENT_IP, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as http:
        yield Api(http)
