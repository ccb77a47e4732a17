"""Redis outages: the worker waits them out with back-off, the API keeps uses in process, and each
says once when Redis goes and once when it is back. A redis-server of the test's own is stopped
and started (never the shared one). Database outages: the worker's jobs say so once each way too
(a PostgreSQL cluster of the test's own)."""

import asyncio
import logging
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import OutOfMemoryError
from starlette.applications import Starlette

from app import db
from app.main import create_app
from app.models import ManagementToken
from app.observability import metrics
from app.settings import Settings
from app.usage import keys
from app.usage.availability import Availability
from app.usage.model import UsageKind, Use
from app.usage.redis_buffer import RedisUsageBuffer
from tests.support.api import Api
from tests.support.fresh_database import keyward, keyward_env, one_line_errors
from tests.support.many_tokens import seed_tokens
from tests.support.running_app import running_api
from tests.support.serve_processes import worker
from tests.support.throwaway_services import ThrowawayPostgres, ThrowawayRedis, throwaway_postgres, throwaway_redis
from workers import context, jobs

MT = UsageKind.MANAGEMENT_TOKEN
DOWN, UP = "Redis is unavailable", "Redis is available again"


@contextmanager
def worker_process(database_url: str, redis_url: str) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A real `keyward worker` that flushes every second; its output in a file."""
    with worker(database_url, redis_url, usage_flush_seconds="1", stale_sweep_cron="off") as running:
        yield running


async def _record(server: ThrowawayRedis, pk: int) -> datetime:
    client = aioredis.Redis.from_url(server.url, decode_responses=True)
    try:
        at = datetime.now(UTC)
        await RedisUsageBuffer(client, timeout=5.0).record_many([Use(MT, pk, at, "192.0.2.1")])
        return at
    finally:
        await client.aclose()


def _output(log: Path) -> str:
    return log.read_text(errors="replace")


async def _until_written(pk: int, at: datetime, process: subprocess.Popen[bytes], log: Path, within: float) -> None:
    deadline = time.monotonic() + within
    while (await ManagementToken.get(id=pk)).last_used_at != at:
        assert process.poll() is None, f"the worker exited with {process.returncode}:\n{_output(log)}"
        assert time.monotonic() < deadline, f"the use was not flushed within {within} s:\n{_output(log)}"
        await asyncio.sleep(0.1)


async def _until_logged(line: str, process: subprocess.Popen[bytes], log: Path, within: float) -> None:
    """Waits for the worker to start and log `line` (starting Python takes seconds on a busy machine)."""
    deadline = time.monotonic() + within
    while line not in _output(log):
        assert process.poll() is None, _output(log)
        assert time.monotonic() < deadline, f"the worker did not log {line!r} within {within} s:\n{_output(log)}"
        await asyncio.sleep(0.2)


async def test_the_worker_survives_a_redis_outage_and_logs_each_change_once(app: Starlette, database_url: str) -> None:
    first, second = await seed_tokens(2)
    with throwaway_redis() as server, worker_process(database_url, server.url) as (process, log):
        # given a worker flushing uses
        await _until_written(first, await _record(server, first), process, log, within=30)
        # when Redis goes away for six seconds
        server.stop()
        await asyncio.sleep(6)
        # then the worker is still there, and said so once (not once per retry)
        assert process.poll() is None, log.read_text()
        assert log.read_text().count(DOWN) == 1, log.read_text()
        # and when Redis is back, it flushes again and says so once
        server.start()
        await _until_written(second, await _record(server, second), process, log, within=30)
        output = log.read_text()
        assert output.count(DOWN) == 1 and output.count(UP) == 1, output
        assert "Traceback" not in output, output


async def test_a_full_redis_is_flushed_by_the_worker_until_it_takes_writes_again(
    app: Starlette, database_url: str
) -> None:
    [pk] = await seed_tokens(1)
    with throwaway_redis() as server:
        # given Redis full of buffered uses (its maxmemory reached, nothing to evict): every write answers OOM
        at = await _record(server, pk)
        client = aioredis.Redis.from_url(server.url, decode_responses=True)
        try:
            others = [Use(MT, 10_000_000 + n, at, "192.0.2.1") for n in range(20_000)]
            await RedisUsageBuffer(client, timeout=5.0).record_many(others)
            used = int((await client.info("memory"))["used_memory"])
            await client.config_set("maxmemory-policy", "noeviction")
            await client.config_set("maxmemory", str(used - 200_000))
            with pytest.raises(OutOfMemoryError):
                await client.set("keyward:test:probe", "x" * 1000)
            # when a worker starts (arq cannot queue its jobs in it)
            with worker_process(database_url, server.url) as (process, log):
                # then the worker flushes it all the same: the uses reach the database, and Redis takes writes again
                await _until_written(pk, at, process, log, within=60)
                deadline = time.monotonic() + 60
                while await client.zcard(keys.PENDING):
                    assert time.monotonic() < deadline, _output(log)
                    await asyncio.sleep(0.1)
                await client.set("keyward:test:probe", "x" * 1000)
        finally:
            await client.aclose()


async def test_a_redis_that_refuses_writes_is_said_gone_once_and_back_once_it_takes_them(
    app: Starlette, database_url: str
) -> None:
    [pk] = await seed_tokens(1)
    with throwaway_redis() as primary, throwaway_redis() as server:
        # given a worker on a read-only replica (every job arq queues answers READONLY)
        client = aioredis.Redis.from_url(server.url, decode_responses=True)
        try:
            await client.replicaof("127.0.0.1", str(primary.port))
            # (ticks seconds apart, as by default: most poll iterations between them only read, and pass)
            ticks = {"usage_flush_seconds": "10", "webhook_delivery_seconds": "5", "stale_sweep_cron": "off"}
            with worker(database_url, server.url, **ticks) as (process, log):
                await _until_logged(DOWN, process, log, within=60)
                # when several cron ticks fail
                await asyncio.sleep(12)
                # then it said so once, in printable text (arq's pipeline carries a pickled job), and not back
                output = _output(log)
                assert output.count(DOWN) == 1 and output.count(UP) == 0, output
                assert "READONLY" in output or "read only replica" in output, output
                assert all(char.isprintable() or char == "\n" for char in output), output
                # when the replica is promoted (a failover), then the worker is back, once, and flushes
                await client.replicaof("NO", "ONE")
                await _until_written(pk, await _record(server, pk), process, log, within=60)
                assert _output(log).count(UP) == 1, _output(log)
        finally:
            await client.aclose()


async def test_the_worker_waits_for_redis_at_start(app: Starlette, database_url: str) -> None:
    [pk] = await seed_tokens(1)
    with throwaway_redis() as server:
        server.stop()
        with worker_process(database_url, server.url) as (process, log):
            # given a worker started while Redis is away (once it has said so), for longer than arq's five retries
            await _until_logged(DOWN, process, log, within=60)
            await asyncio.sleep(7)
            assert process.poll() is None, log.read_text()
            assert log.read_text().count(DOWN) == 1, log.read_text()
            # when Redis comes
            server.start()
            # then the worker starts working
            await _until_written(pk, await _record(server, pk), process, log, within=30)
            assert log.read_text().count(UP) == 1, log.read_text()


async def test_the_api_keeps_uses_in_process_reports_redis_and_logs_each_change_once(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with throwaway_redis() as server:
        application = create_app(
            settings.model_copy(update={"redis_url": server.url, "usage_redis_retry_seconds": 0.1})
        )
        async with application.router.lifespan_context(application):
            from httpx import ASGITransport, AsyncClient

            from tests.support.running_app import CLIENT_IP, empty_tables

            await empty_tables()
            usage = application.state.usage
            transport = ASGITransport(app=application, client=(CLIENT_IP, 40000))
            async with AsyncClient(transport=transport, base_url="http://keyward.test") as http:
                api = Api(http)
                owner = await api.sign_up()
                _, secret = await api.create_token(owner, ["VIEW_PROJECTS"])
                assert await usage.probe_redis() == "ok"
                # when Redis goes away under traffic for longer than many retry periods
                with caplog.at_level(logging.INFO, logger="keyward.usage"):
                    server.stop()
                    for _ in range(15):
                        await api.ok("{ viewer { kind } }", token=secret)
                        await asyncio.sleep(0.1)
                    # then requests succeed, the log said it once, and the runtime reports Redis as degraded
                    assert sum(DOWN in r.getMessage() for r in caplog.records) == 1, caplog.text
                    assert len(usage.in_process) == 1
                    assert usage.redis_status() == "degraded"
                    assert await usage.probe_redis() == "degraded"
                    # and once Redis is back, the uses go back to it and the log says that once
                    server.start()
                    for _ in range(50):
                        await api.ok("{ viewer { kind } }", token=secret)
                        await asyncio.sleep(0.1)
                        if usage.redis_status() == "ok" and not len(usage.in_process):
                            break
                    assert await usage.probe_redis() == "ok"
                messages = [record.getMessage() for record in caplog.records]
                assert sum(DOWN in m for m in messages) == 1, messages
                assert sum(UP in m for m in messages) == 1, messages


async def test_uses_being_handed_back_to_redis_stay_in_process_until_redis_has_them() -> None:
    with throwaway_redis() as server:
        client = aioredis.Redis.from_url(server.url, decode_responses=True)
        admin = aioredis.Redis.from_url(server.url)
        buffer = RedisUsageBuffer(client, timeout=0.05)
        try:
            # given a use kept in process, and a Redis that does not answer writes for a while
            buffer.fallback.add(Use(MT, 1, datetime.now(UTC), "192.0.2.1"))
            await client.ping()
            await admin.execute_command("CLIENT", "PAUSE", "3000", "WRITE")
            # when a hand-back to Redis is under way, and is cancelled (the process shuts down)
            drain = asyncio.create_task(buffer.drain_fallback())
            await asyncio.sleep(0.2)
            assert len(buffer.fallback) == 1
            drain.cancel()
            with pytest.raises(asyncio.CancelledError):
                await drain
            # then the use is still there for the shutdown's flush
            assert len(buffer.fallback) == 1
        finally:
            await admin.execute_command("CLIENT", "UNPAUSE")
            await client.aclose()
            await admin.aclose()


def test_a_redis_that_refuses_the_url_stops_the_worker_with_one_line(database_url: str, redis_url: str) -> None:
    # given a Redis that answers but has no database 99 (as a wrong password: no outage ends it)
    refused = redis_url.rsplit("/", 1)[0] + "/99"
    # when the worker starts (it waited, retrying with back-off, for ever)
    done = keyward("worker", env=keyward_env(database_url, redis_url=refused), timeout=60)
    # then it stops at once with one line naming the setting and Redis's reason
    assert done.returncode == 1, done.stderr
    errors = one_line_errors(done.stderr, "worker")
    assert len(errors) == 1 and "KEYWARD_REDIS_URL=" in errors[0], done.stderr
    assert "Redis refused it (DB index is out of range)" in errors[0] and "Traceback" not in done.stderr


# ---- the database, as the worker's jobs meet it ---------------------------------------------------


async def test_the_worker_says_once_when_the_database_goes_and_once_when_it_is_back(
    redis_url: str, settings: Settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not settings.database_url.startswith("postgres"):
        pytest.skip("the outage runs on a PostgreSQL cluster of the test's own (the PostgreSQL pass)")
    fresh = Availability(jobs.log, "worker", "the database", while_down="…")
    monkeypatch.setattr(jobs, "DATABASE", fresh, raising=False)  # up, whatever an earlier test left
    with throwaway_postgres() as pg:
        await db.migrate(pg.url)
        ctx: dict[str, Any] = {}
        async with running_api(pg.url):  # Tortoise on the cluster, which the worker's jobs share
            await context.startup(ctx, settings.model_copy(update={"database_url": pg.url, "redis_url": redis_url}))
            await _database_outage_and_back(pg, ctx, caplog)


async def _database_outage_and_back(
    pg: ThrowawayPostgres, ctx: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    try:
        [pk] = await seed_tokens(1)
        at = datetime.now(UTC)
        await ctx["usage"].record_many([Use(MT, pk, at, "192.0.2.1")])
        failures = _job_failures("flush_usage")
        # when the database stops while the worker's jobs keep ticking
        pg.stop()
        with caplog.at_level(logging.INFO, logger="keyward.worker"):
            for _ in range(3):
                # then each run fails quietly (arq logged a traceback for every one of them)
                assert await jobs.flush_usage(ctx) is None
                assert await jobs.deliver_webhooks(ctx) is None
            down = [r for r in caplog.records if "the database is unavailable" in r.getMessage()]
            assert len(down) == 1 and down[0].exc_info is None, caplog.text
            assert _job_failures("flush_usage") == failures + 3
            # and once it is back, the next run writes the use that waited in Redis, and says so once
            pg.start()
            outcome = await jobs.flush_usage(ctx)
            assert outcome is not None and outcome["uses"] == 1
            assert (await ManagementToken.get(id=pk)).last_used_at == at
            await jobs.flush_usage(ctx)
        assert caplog.text.count("the database is available again") == 1, caplog.text
        assert "Traceback" not in caplog.text
    finally:
        await context.shutdown(ctx)


def _job_failures(job: str) -> float:
    return metrics.WORKER_JOBS.labels(job, "failure")._value.get()  # type: ignore[attr-defined,no-any-return]
