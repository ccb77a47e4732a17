"""What a failure can cost last-used tracking, row by row of the README's table, with real `keyward serve`
processes (killed with SIGKILL, stopped with SIGTERM) and a PostgreSQL cluster of the test's own
where the database must go away.
"""

import asyncio
import os
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette

from app import db
from app.graphql.ids import pk_of
from app.models import ManagementToken
from app.usage import keys
from tests.support.api import Account, Api
from tests.support.serve_processes import CLIENT_LIMITS, Server, serve
from tests.support.throwaway_services import ThrowawayPostgres, free_port, throwaway_postgres

VIEWER = "{ viewer { kind } }"
TOKENS = "{ managementTokens(first: 10) { edges { node { name lastUsedAt lastUsedIp } } } }"


@asynccontextmanager
async def client(server: Server) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.base_url, limits=CLIENT_LIMITS, timeout=30) as http:
        yield Api(http)


async def _last_used(api: Api, owner: Account) -> dict[str, str | None]:
    data = await api.ok(TOKENS, token=owner.session)
    return {edge["node"]["name"]: edge["node"]["lastUsedAt"] for edge in data["managementTokens"]["edges"]}


def _wait_for_exit(server: Server, timeout: float = 30) -> int:
    return server.process.wait(timeout=timeout)


@contextmanager
def _spool_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="keyward-spool-") as tmp:
        yield Path(tmp)


@pytest.fixture
def cluster() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres() as pg:
        asyncio.run(db.migrate(pg.url))
        yield pg


# ---- embedded: graceful stop while the database is down -------------------------------------------


async def test_sigterm_with_the_database_down_spools_the_uses_and_the_next_start_writes_them(
    cluster: ThrowawayPostgres,
) -> None:
    with _spool_dir() as spool:
        settings = {"usage_flush_seconds": "3600", "usage_spool_dir": str(spool), "stale_sweep_cron": "off"}
        with serve(cluster.url, log_level="info", **settings) as server:
            async with client(server) as api:
                # given a token used while the database was up
                owner = await api.sign_up()
                _, secret = await api.create_token(owner, ["VIEW_PROJECTS"], name="used")
                used_after = datetime.now(UTC)
                await api.ok(VIEWER, token=secret)
            # when the database goes away and the API process is stopped gracefully
            cluster.stop()
            server.process.send_signal(signal.SIGTERM)
            code = _wait_for_exit(server)
            log = server.log()
        # then it exits as any graceful stop does (by SIGTERM, after shutting down), saying where the use is
        assert code == -signal.SIGTERM, log
        assert "the database did not take 1 uses at shutdown" in log, log
        assert len(list(spool.rglob("*.uses"))) == 1
        # and the next start, with the database back, writes it
        cluster.start()
        with serve(cluster.url, **settings) as server:
            async with client(server) as api:
                last_used = (await _last_used(api, owner))["used"]
        assert last_used is not None and datetime.fromisoformat(last_used) >= used_after
        assert list(spool.rglob("*.uses")) == []


async def test_sigterm_with_the_database_down_and_nowhere_to_spool_exits_non_zero_and_says_so(
    cluster: ThrowawayPostgres,
) -> None:
    with tempfile.NamedTemporaryFile() as not_a_folder:
        settings = {
            "usage_flush_seconds": "3600",
            "usage_spool_dir": f"{not_a_folder.name}/spool",
            "stale_sweep_cron": "off",
        }
        with serve(cluster.url, log_level="info", **settings) as server:
            # the operator is told at start that a spool could not be kept
            assert "spool folder" in server.log() and "not usable" in server.log()
            async with client(server) as api:
                owner = await api.sign_up()
                _, secret = await api.create_token(owner, ["VIEW_PROJECTS"])
                await api.ok(VIEWER, token=secret)
            # when the database goes away and the API process is stopped gracefully
            cluster.stop()
            server.process.send_signal(signal.SIGTERM)
            code = _wait_for_exit(server)
            log = server.log()
    # then the loss is not silent: the exit status and the log say it
    assert code == 1, log
    assert "dropped 1 uses at shutdown" in log, log


# ---- embedded: kill -9 ---------------------------------------------------------------------------------


async def test_kill_9_loses_at_most_the_uses_of_the_last_flush_interval(app: Starlette, database_url: str) -> None:
    with _spool_dir() as spool:
        settings = {"usage_flush_seconds": "1", "usage_spool_dir": str(spool), "stale_sweep_cron": "off"}
        with serve(database_url, **settings) as server:
            async with client(server) as api:
                owner = await api.sign_up()
                token_id, secret = await api.create_token(owner, ["VIEW_PROJECTS"])
                # given a use older than one flush interval (plus the flush itself): the flush has written it
                used_at = datetime.now(UTC)
                await api.ok(VIEWER, token=secret)
                pk = pk_of(token_id, "ManagementToken")
                deadline = time.monotonic() + 10
                while (await ManagementToken.get(id=pk)).last_used_at is None:
                    assert time.monotonic() < deadline, "no flush wrote the use within a few flush intervals"
                    await asyncio.sleep(0.1)
            # when the process is killed
            server.process.send_signal(signal.SIGKILL)
            _wait_for_exit(server)
        # then that use is in the database
        row = await ManagementToken.get(id=pk_of(token_id, "ManagementToken"))
        assert row.last_used_at is not None and row.last_used_at >= used_at


async def test_kill_9_during_a_database_outage_loses_only_what_came_after_the_last_failed_flush(
    cluster: ThrowawayPostgres,
) -> None:
    with _spool_dir() as spool:
        settings = {"usage_flush_seconds": "1", "usage_spool_dir": str(spool), "stale_sweep_cron": "off"}
        with serve(cluster.url, **settings) as server:
            async with client(server) as api:
                owner = await api.sign_up()
                _, secret = await api.create_token(owner, ["VIEW_PROJECTS"], name="used")
                # given a use, then a database outage that makes the next flushes fail
                used_after = datetime.now(UTC)
                await api.ok(VIEWER, token=secret)
                cluster.stop()
                deadline = time.monotonic() + 15
                while not list(spool.rglob("*.uses")):
                    assert time.monotonic() < deadline, "no failed flush spooled the use"
                    await asyncio.sleep(0.1)
            # when the process is killed during the outage
            server.process.send_signal(signal.SIGKILL)
            _wait_for_exit(server)
        # then the next start, with the database back, writes the use from the spool
        cluster.start()
        with serve(cluster.url, **settings) as server:
            async with client(server) as api:
                last_used = (await _last_used(api, owner))["used"]
        assert last_used is not None and datetime.fromisoformat(last_used) >= used_after


# ---- with Redis -----------------------------------------------------------------------------------------


async def test_kill_9_of_an_api_process_with_redis_loses_no_recorded_use(
    app: Starlette, database_url: str, redis_url: str
) -> None:
    with serve(database_url, redis_url, stale_sweep_cron="off") as server:
        async with client(server) as api:
            owner = await api.sign_up()
            token_id, secret = await api.create_token(owner, ["VIEW_PROJECTS"])
            # given a request that was answered
            await api.ok(VIEWER, token=secret)
        # when the API process is killed right after
        server.process.send_signal(signal.SIGKILL)
        _wait_for_exit(server)
    # then its use is in Redis, waiting for the worker
    redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert await redis.zscore(keys.PENDING, f"mt:{pk_of(token_id, 'ManagementToken')}") is not None
    finally:
        await redis.aclose()


async def test_with_redis_away_the_api_writes_its_uses_to_the_database_every_interval(
    app: Starlette, database_url: str
) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    settings = {"usage_flush_seconds": "1", "usage_redis_retry_seconds": "0.2", "stale_sweep_cron": "off"}
    with serve(database_url, nowhere, log_level="info", **settings) as server:
        async with client(server) as api:
            owner = await api.sign_up()
            token_id, secret = await api.create_token(owner, ["VIEW_PROJECTS"])
            # given a use while Redis cannot be reached
            used_at = datetime.now(UTC)
            await api.ok(VIEWER, token=secret)
            # then it reaches the database within a flush interval or two, with the process still running
            pk = pk_of(token_id, "ManagementToken")
            deadline = time.monotonic() + 10
            while (row := await ManagementToken.get(id=pk)).last_used_at is None:
                assert time.monotonic() < deadline, server.log()
                await asyncio.sleep(0.1)
            assert row.last_used_at >= used_at
            assert server.process.poll() is None
            # and the log says once that Redis is away, not once per retry
            await asyncio.sleep(1.0)
            assert server.log().count("Redis is unavailable") == 1, server.log()


def test_the_spool_folder_is_private(tmp_path: Path) -> None:
    from app.usage.model import UsageKind, Use
    from app.usage.spool import UsageSpool

    spool = UsageSpool(tmp_path / "spool")
    spool.open()
    try:
        spool.save([Use(UsageKind.API_KEY, 1, datetime.now(UTC), "192.0.2.1")])
        assert (tmp_path / "spool").stat().st_mode & 0o777 == 0o700
        assert spool.path.stat().st_mode & 0o777 == 0o600
    finally:
        spool.clear()
        spool.close()
    assert os.listdir(tmp_path / "spool") == []


def test_a_lock_left_by_a_process_that_is_gone_is_removed_and_a_live_one_is_kept(tmp_path: Path) -> None:
    from app.usage.spool import UsageSpool

    # given the lock file of a process killed with nothing to spool, and a live process's spool
    (tmp_path / "spool").mkdir(mode=0o700)
    (tmp_path / "spool" / "gone.lock").touch()
    live = UsageSpool(tmp_path / "spool")
    live.open()
    try:
        # when another process starts and looks for spool files to write
        starting = UsageSpool(tmp_path / "spool")
        starting.open()
        assert list(starting.orphans()) == []
        # then the dead process's lock is gone, the live one's is not
        assert sorted(p.name for p in (tmp_path / "spool").iterdir()) == sorted(
            [f"{live.owner}.lock", f"{starting.owner}.lock"]
        )
        starting.close()
    finally:
        live.close()
