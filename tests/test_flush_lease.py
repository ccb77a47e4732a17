"""The flush is single-flight across workers: a lease with an owner and an expiry, renewed while it runs.

Real Redis (KEYWARD_TEST_REDIS_URL) and the run's database; the backlog and kill -9 tests run real
`keyward worker` processes on PostgreSQL with a 100,000-use backlog.
"""

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from starlette.applications import Starlette

from app.models import ManagementToken
from app.usage import keys
from app.usage.flush import flush
from app.usage.model import UsageKind, Use
from app.usage.redis_buffer import RedisUsageBuffer
from tests.support.many_tokens import seed_tokens

MT = UsageKind.MANAGEMENT_TOKEN
ROOT = Path(__file__).resolve().parent.parent


@pytest_asyncio.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


def _backlog(ids: list[int], at: datetime) -> list[Use]:
    return [Use(MT, pk, at + timedelta(microseconds=i), "192.0.2.1") for i, pk in enumerate(ids)]


async def _written(ids: list[int], at_least: datetime) -> int:
    """How many of these tokens (consecutive ids, as seeded) show a use at or after `at_least`."""
    return await ManagementToken.filter(id__gte=ids[0], id__lte=ids[-1], last_used_at__gte=at_least).count()


async def test_overlapping_flushes_run_one_at_a_time_and_write_each_use_once(
    app: Starlette, redis_client: aioredis.Redis
) -> None:
    # given a backlog in Redis, and a flush that takes a while (it waits after taking the buffer)
    ids = await seed_tokens(3000)
    buffer = RedisUsageBuffer(redis_client, timeout=5.0, lease_seconds=2.0)
    at = datetime.now(UTC).replace(microsecond=0)
    await buffer.record_many(_backlog(ids, at))
    taken = asyncio.Event()

    async def slow(step: str) -> None:
        if step == "taken" and not taken.is_set():
            taken.set()
            await asyncio.sleep(0.5)

    first = asyncio.create_task(flush(buffer, hook=slow, batch_size=500))
    await taken.wait()
    # when cron runs of other workers start while it is running (each with its own client and lease)
    others = [RedisUsageBuffer(redis_client, timeout=5.0, lease_seconds=2.0) for _ in range(5)]
    overlapping = await asyncio.gather(*(flush(other) for other in others))
    result = await first
    # then they did nothing, the first one wrote every use exactly once, and the buffer is drained
    assert [r.skipped for r in overlapping] == [True] * 5
    assert sum(r.uses for r in overlapping) == 0
    assert result.uses == 3000 and result.rows_changed == 3000 and not result.skipped
    assert await _written(ids, at) == 3000
    assert await redis_client.exists(*keys.ALL) == 0


async def test_a_flush_longer_than_its_lease_keeps_it_by_renewing(app: Starlette, redis_client: aioredis.Redis) -> None:
    # given a flush with a 0.3 s lease that runs for 1.2 s
    [pk] = await seed_tokens(1)
    buffer = RedisUsageBuffer(redis_client, timeout=5.0, lease_seconds=0.3)
    await buffer.record(Use(MT, pk, datetime.now(UTC), "192.0.2.1"))

    async def slow(step: str) -> None:
        if step == "taken":
            await asyncio.sleep(1.2)

    running = asyncio.create_task(flush(buffer, hook=slow))
    # when other flushes try during it, well after the first lease period
    attempts = []
    for _ in range(4):
        await asyncio.sleep(0.25)
        attempts.append(await flush(RedisUsageBuffer(redis_client, timeout=5.0, lease_seconds=0.3)))
    result = await running
    # then none of them took the batch over, and the slow flush completed it
    assert all(attempt.skipped for attempt in attempts)
    assert result.uses == 1 and await redis_client.exists(*keys.ALL) == 0


async def test_a_dead_flush_is_taken_over_once_its_lease_expires(app: Starlette, redis_client: aioredis.Redis) -> None:
    # given a flush that took the buffer and died (its lease is no longer renewed)
    [pk] = await seed_tokens(1)
    dead = RedisUsageBuffer(redis_client, timeout=5.0, lease_seconds=0.5)
    at = datetime.now(UTC).replace(microsecond=0)
    await dead.record(Use(MT, pk, at, "192.0.2.1"))
    lease = await dead.lease.try_acquire()
    assert lease is not None and (await anext(dead.rounds(lease, 5000))).uses
    successor = RedisUsageBuffer(redis_client, timeout=5.0, lease_seconds=0.5)
    # when another flush runs before the lease expired, and again after
    before = await flush(successor)
    await asyncio.sleep(0.6)
    after = await flush(successor)
    # then the first did nothing and the second wrote the dead flush's batch
    assert before.skipped and before.uses == 0
    assert not after.skipped and after.uses == 1
    assert (await ManagementToken.get(id=pk)).last_used_at == at
    assert await redis_client.exists(*keys.ALL) == 0


# ---- real worker processes, a 100,000-use backlog, PostgreSQL -------------------------------------

BACKLOG = 100_000


@pytest.fixture
def postgres_only(database_url: str) -> str:
    if not database_url.startswith("postgres"):
        pytest.skip("the 100,000-use backlog tests run on PostgreSQL (KEYWARD_TEST_DATABASE_URL)")
    return database_url


@contextmanager
def workers(count: int, database_url: str, redis_url: str, **settings: str) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` real `keyward worker` processes; their output goes to files kept for the failure message."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYWARD_")}
    env |= {"KEYWARD_DATABASE_URL": database_url, "KEYWARD_REDIS_URL": redis_url, "KEYWARD_STALE_SWEEP_CRON": "off"}
    env |= {f"KEYWARD_{name.upper()}": value for name, value in settings.items()}
    processes: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for _ in range(count):
            log = tempfile.NamedTemporaryFile(prefix="keyward-worker-", suffix=".log", delete=False)  # noqa: SIM115
            logs.append(log)
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "keyward", "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
                )
            )
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()
            Path(log.name).unlink(missing_ok=True)


async def test_a_backlog_drains_under_live_load_and_live_tokens_stay_fresh(
    app: Starlette, postgres_only: str, redis_url: str, redis_client: aioredis.Redis
) -> None:
    # given 100,000 distinct uses waiting in Redis (what a worker or database outage leaves), and a
    # flush interval shorter than writing them all takes
    interval = 2.0
    ids = await seed_tokens(BACKLOG)
    backlog_ids, live_ids = ids[:-10], ids[-10:]
    buffer = RedisUsageBuffer(redis_client, timeout=5.0)
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    await buffer.record_many(_backlog(backlog_ids, at))
    truth: dict[int, datetime] = {}
    lags: list[float] = []
    # when two workers flush every 2 s while ten tokens are used continuously for 25 s
    with workers(2, postgres_only, redis_url, usage_flush_seconds=str(int(interval))) as processes:
        await _until_a_worker_flushes(redis_client, ids[0], at)
        started = time.monotonic()
        drained_after = None
        while time.monotonic() - started < 25:
            now = datetime.now(UTC)
            for pk in live_ids:
                truth[pk] = now
            await buffer.record_many([Use(MT, pk, now, "198.51.100.1") for pk in live_ids])
            await asyncio.sleep(0.25)
            rows = dict(await ManagementToken.filter(id__in=live_ids).values_list("id", "last_used_at"))  # type: ignore[arg-type]
            for pk in live_ids:
                shown = rows.get(pk)
                lags.append((truth[pk] - shown).total_seconds() if shown else time.monotonic() - started)
            if drained_after is None and await _written(backlog_ids, at) == len(backlog_ids):
                drained_after = time.monotonic() - started
        assert all(process.poll() is None for process in processes)
    # then the backlog drained while the live load went on
    assert drained_after is not None, "the backlog never reached the database"
    # and each live token's lastUsedAt trailed its true last use by at most two flush intervals
    lags.sort()
    worst, p99 = lags[-1], lags[int(len(lags) * 0.99)]
    assert worst <= 2 * interval, f"a live token's lastUsedAt trailed by {worst:.1f} s (p99 {p99:.1f} s)"
    print(
        f"backlog of {len(backlog_ids):,} drained after {drained_after:.1f} s; live lag p99 {p99:.2f} s, max {worst:.2f} s"
    )


async def _until_a_worker_flushes(redis_client: aioredis.Redis, pk: int, at: datetime) -> None:
    """Until the workers are up and the first round is written (they take a few seconds to start)."""
    deadline = time.monotonic() + 60
    while not await ManagementToken.filter(id__gte=pk, last_used_at__gte=at).exists():
        assert time.monotonic() < deadline, "no worker flushed within 60 s"
        await asyncio.sleep(0.05)


async def test_a_worker_killed_mid_flush_is_taken_over_within_one_lease(
    app: Starlette, postgres_only: str, redis_url: str, redis_client: aioredis.Redis
) -> None:
    # given a 100,000-use backlog, and a worker flushing it (lease 6 s, a flush every second)
    lease_seconds, interval = 6.0, 1.0
    ids = await seed_tokens(BACKLOG)
    buffer = RedisUsageBuffer(redis_client, timeout=5.0)
    at = datetime.now(UTC).replace(microsecond=0)
    await buffer.record_many(_backlog(ids, at))
    settings = {"usage_flush_seconds": str(int(interval)), "usage_flush_lease_seconds": str(lease_seconds)}
    with workers(1, postgres_only, redis_url, **settings) as [first]:
        # when it is killed -9 in the middle of the backlog
        await _until_a_worker_flushes(redis_client, ids[0], at)
        assert await _written(ids, at) < len(ids), "the flush ended before the kill"
        holder = await redis_client.get(keys.FLUSH_LEASE)
        first.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        first.wait()
    # and a second worker starts
    taken_over_after = None
    with workers(1, postgres_only, redis_url, **settings) as [second]:
        # then it writes everything: what the dead worker had taken and what was still pending
        while await _written(ids, at) < len(ids) or await redis_client.scard(keys.ROUNDS):
            assert time.monotonic() - killed_at < lease_seconds + interval + 60, "the backlog never drained"
            owner = await redis_client.get(keys.FLUSH_LEASE)
            if taken_over_after is None and owner and f":{second.pid}:" in owner:
                taken_over_after = time.monotonic() - killed_at
            await asyncio.sleep(0.05)
        recovered_after = time.monotonic() - killed_at
    # and it took over once the dead worker's lease expired: within one lease period and a tick
    assert holder is not None and f":{first.pid}:" in holder
    assert taken_over_after is not None and taken_over_after <= lease_seconds + interval + 1
    print(f"taken over {taken_over_after:.1f} s after the kill; all written {recovered_after:.1f} s after it")
