"""Last used through real requests: management tokens on the Management API, API keys on /v1/keys/verify."""

import asyncio
import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis
import redis.asyncio as aioredis
from starlette.applications import Starlette

from app.graphql.ids import pk_of
from app.main import create_app
from app.settings import Settings
from app.usage import keys
from app.usage.model import UsageKind, Use
from app.usage.redis_buffer import RedisUsageBuffer
from tests.support.api import ALL_PERMISSIONS, Api
from tests.support.ports import free_port
from tests.support.required_tools import tool_missing
from tests.support.running_app import CLIENT_IP, empty_tables
from tests.support.sql_statements import key_row, statements, token_row
from workers import context, jobs

VIEWER = "{ viewer { kind permissions } }"
TOKENS = "{ managementTokens(first: 10) { edges { node { id name lastUsedAt lastUsedIp } } } }"
API_KEYS = "query($p: ID!) { apiKeys(projectId: $p) { edges { node { id lastUsedAt } } } }"


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[Starlette, Api]]:
    """An API process from start-up to a graceful shutdown."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=(CLIENT_IP, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as http:
            yield application, Api(http)


async def _verify(api: Api, key: str) -> httpx.Response:
    return await api.http.post("/v1/keys/verify", json={"key": key})


async def test_requests_write_no_usage_to_the_database_until_the_final_flush(settings: Settings) -> None:
    async with running(settings) as (_, api):
        await empty_tables()
        # given a management token
        owner = await api.sign_up()
        token_id, secret = await api.create_token(owner, ALL_PERMISSIONS)
        # when it calls the API several times
        with statements_of_requests() as seen:
            for _ in range(5):
                await api.ok(VIEWER, token=secret)
        started = datetime.now(UTC)
        await api.ok(VIEWER, token=secret)
        # then nothing about usage reached the database on the request path
        assert not [sql for sql in seen if "last_used" in sql]
        assert (await token_row(token_id)).last_used_at is None
    # and the shutdown's flush wrote the newest use
    async with running(settings) as (_, api):
        row = await token_row(token_id)
        assert row.last_used_at is not None and row.last_used_at >= started
        assert row.last_used_ip == CLIENT_IP


@contextlib.contextmanager
def statements_of_requests() -> Iterator[list[str]]:
    with pytest.MonkeyPatch.context() as patch, statements(patch) as seen:
        yield seen


async def test_embedded_flush_shows_last_used_of_tokens_and_keys(app: Starlette, api: Api) -> None:
    # given a token and an API key, each used once
    owner = await api.sign_up()
    token_id, secret = await api.create_token(owner, ALL_PERMISSIONS)
    before = datetime.now(UTC)
    project = await api.create_project(secret)
    key_id, key = await api.create_api_key(secret, project)
    assert (await _verify(api, key)).json()["valid"] is True
    # a failed check is no use
    await _verify(api, "kwk_" + "a" * 36)
    # when the embedded mode flushes (what its background task does every KEYWARD_USAGE_FLUSH_SECONDS)
    result = await app.state.usage.flush_now()
    # then
    assert result.uses == 2
    keys_data = await api.ok(API_KEYS, {"p": project}, secret)
    used = datetime.fromisoformat(keys_data["apiKeys"]["edges"][0]["node"]["lastUsedAt"])
    assert used >= before
    assert (await key_row(key_id)).last_used_ip == CLIENT_IP
    tokens = await api.ok(TOKENS, token=owner.session)
    node = tokens["managementTokens"]["edges"][0]["node"]
    assert node["id"] == token_id and node["lastUsedIp"] == CLIENT_IP
    assert datetime.fromisoformat(node["lastUsedAt"]) >= before


async def test_sessions_are_not_recorded_as_token_use(app: Starlette, api: Api) -> None:
    # given a signed-in person
    owner = await api.sign_up()
    # when the person calls the API
    await api.ok(VIEWER, token=owner.session)
    # then nothing is buffered
    assert len(app.state.usage.buffer) == 0


async def test_with_redis_uses_wait_in_redis_for_the_worker(
    redis_app: Starlette, redis_api: Api, redis_settings: Settings
) -> None:
    # given a token and a key used through the API process
    owner = await redis_api.sign_up()
    token_id, secret = await redis_api.create_token(owner, ALL_PERMISSIONS)
    project = await redis_api.create_project(secret)
    key_id, key = await redis_api.create_api_key(secret, project)
    assert (await _verify(redis_api, key)).json()["valid"] is True
    client = redis_app.state.usage.buffer.redis
    token_pk, key_pk = pk_of(token_id, "ManagementToken"), pk_of(key_id, "ApiKey")
    # then the uses are in Redis, not in the database
    assert await client.zscore(keys.PENDING, f"mt:{token_pk}") is not None
    assert await client.hget(keys.PENDING_IP, f"ak:{key_pk}") == CLIENT_IP
    assert (await token_row(token_id)).last_used_at is None
    # when the worker's flush job runs
    ctx: dict[str, object] = {}
    await context.startup(ctx, redis_settings)
    try:
        outcome = await jobs.flush_usage(ctx)
    finally:
        await context.shutdown(ctx)
    # then
    assert outcome["uses"] == 2
    assert (await token_row(token_id)).last_used_ip == CLIENT_IP
    assert (await key_row(key_id)).last_used_at is not None


# ---- Redis stopped and started during traffic (a throwaway server on our own port) ----------


class ThrowawayRedis:
    """A redis-server of our own (never the shared one), with an append-only file so a restart keeps data."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [  # noqa: S607
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                if client.ping():
                    break
            except redis.RedisError:
                time.sleep(0.05)
        else:
            raise RuntimeError("throwaway redis-server did not start")
        client.close()

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()  # SIGTERM: Redis shuts down gracefully, the AOF is complete
        self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    if shutil.which("redis-server") is None:
        tool_missing("redis-server", "`apt-get install redis-server`")
    with tempfile.TemporaryDirectory(prefix="keyward-redis-") as tmp:
        server = ThrowawayRedis(free_port(), Path(tmp))
        server.start()
        try:
            yield server
        finally:
            if server.process is not None:
                server.stop()


async def _drain_until_empty(buffer: RedisUsageBuffer) -> None:
    """What the API process's background task does each second once Redis answers again."""
    for _ in range(50):
        await buffer.drain_fallback()
        if len(buffer.fallback) == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the fallback never drained into Redis")


async def test_redis_stopped_and_started_during_traffic_loses_no_use(
    settings: Settings, throwaway_redis: ThrowawayRedis
) -> None:
    redis_settings = settings.model_copy(update={"redis_url": throwaway_redis.url})
    async with running(redis_settings) as (application, api):
        await empty_tables()
        buffer: RedisUsageBuffer = application.state.usage.buffer
        owner = await api.sign_up()
        first_id, first = await api.create_token(owner, ALL_PERMISSIONS, name="first")
        second_id, second = await api.create_token(owner, ALL_PERMISSIONS, name="second")
        # given traffic while Redis is up
        await api.ok(VIEWER, token=first)
        await api.ok(VIEWER, token=second)
        # when Redis stops, requests keep succeeding and their uses stay in process
        throwaway_redis.stop()
        stopped_at = datetime.now(UTC)
        for _ in range(3):
            await api.ok(VIEWER, token=first)
        assert len(buffer.fallback) == 1 and buffer.degraded
        # and when Redis is back, the process hands its uses over, and the worker flushes
        throwaway_redis.start()
        await _drain_until_empty(buffer)
        await api.ok(VIEWER, token=second)
        ctx: dict[str, object] = {}
        await context.startup(ctx, redis_settings)
        try:
            await jobs.flush_usage(ctx)
        finally:
            await context.shutdown(ctx)
        # then both tokens have their newest use: the one made while Redis was down, too
        first_row, second_row = await token_row(first_id), await token_row(second_id)
        assert first_row.last_used_at is not None and first_row.last_used_at >= stopped_at
        assert second_row.last_used_at is not None and second_row.last_used_at > first_row.last_used_at


async def test_graceful_shutdown_while_redis_is_down_writes_to_the_database(
    settings: Settings, throwaway_redis: ThrowawayRedis
) -> None:
    redis_settings = settings.model_copy(update={"redis_url": throwaway_redis.url})
    async with running(redis_settings) as (_, api):
        await empty_tables()
        owner = await api.sign_up()
        token_id, secret = await api.create_token(owner, ALL_PERMISSIONS)
        # given Redis is down while a token is used
        throwaway_redis.stop()
        used_after = datetime.now(UTC)
        await api.ok(VIEWER, token=secret)
        # when the API process shuts down gracefully (leaving the block)
    # then the use went straight to the database
    async with running(settings):
        row = await token_row(token_id)
        assert row.last_used_at is not None and row.last_used_at >= used_after
        assert row.last_used_ip == CLIENT_IP


async def test_a_hanging_redis_does_not_hold_the_request(throwaway_redis: ThrowawayRedis) -> None:
    # given a buffer whose Redis never answers in time (our own server, paused with CLIENT PAUSE)
    client = aioredis.Redis.from_url(throwaway_redis.url, decode_responses=True)
    admin = aioredis.Redis.from_url(throwaway_redis.url)
    buffer = RedisUsageBuffer(client, timeout=0.05)
    try:
        await client.ping()
        await admin.execute_command("CLIENT", "PAUSE", "2000", "WRITE")
        # when a use is recorded
        await buffer.record(Use(UsageKind.API_KEY, 1, datetime.now(UTC), None))
        # then it was kept in process instead of failing
        assert len(buffer.fallback) == 1 and buffer.degraded
    finally:
        await admin.execute_command("CLIENT", "UNPAUSE")
        await client.aclose()
        await admin.aclose()
