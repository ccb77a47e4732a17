"""The revocation epoch in Redis (app/credentials/epoch.py, app/usage/redis_buffer.py), on real Redis servers.

The epoch is read in the round trip that records a use; it is unknown when Redis lost it; it never
comes back to a value seen before (a restart changes the server's run id, read once per connection;
a lost key restarts at a random value); a bump that Redis does not take empties this process's cache and never raises.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.exceptions import ConnectionError

from app.credentials import epoch
from app.credentials.cache import CredentialCache, Verified
from app.security.tokens import TokenKind
from app.usage import keys
from app.usage.model import UsageKind, Use
from app.usage.redis_buffer import RedisUsageBuffer
from tests.support.throwaway_services import throwaway_redis


def _use(pk: int = 1) -> Use:
    return Use(UsageKind.API_KEY, pk, datetime.now(UTC), None)


@pytest_asyncio.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    redis = Redis.from_url(redis_url, decode_responses=True)
    yield redis
    await redis.aclose()


async def _bump(client: Redis) -> None:
    epoch.use_redis(client)
    try:
        await epoch.bump_revocation_epoch()
    finally:
        await epoch.stop_using_redis(client)


async def test_the_round_trip_that_records_a_use_reads_the_epoch(client: Redis) -> None:
    buffer = RedisUsageBuffer(client, timeout=1.0)
    # a Redis without an epoch: unknown, and one is set
    assert await buffer.record(_use()) is None
    assert await client.get(keys.REVOCATION_EPOCH) is not None
    first = await buffer.record(_use())
    assert first is not None and first == buffer.epoch_seen
    assert await buffer.record(_use()) == first
    # a bump moves it
    await _bump(client)
    second = await buffer.record(_use())
    assert second is not None and second != first


async def test_a_use_answered_from_an_old_epoch_is_not_recorded(client: Redis) -> None:
    buffer = RedisUsageBuffer(client, timeout=1.0)
    await buffer.record(_use(1))
    current = await buffer.record(_use(1))
    assert current is not None
    await _bump(client)
    # when a use is recorded on the condition that the epoch is still the old one
    answer = await buffer.record(_use(2), expect=current)
    # then it is not recorded, and the answer tells the caller
    assert answer != current
    assert await client.zscore(keys.PENDING, "ak:2") is None
    # and on the current epoch it is
    assert await buffer.record(_use(2), expect=answer) == answer
    assert await client.zscore(keys.PENDING, "ak:2") is not None


async def test_a_lost_epoch_is_unknown_and_starts_again_at_a_random_value(client: Redis) -> None:
    buffer = RedisUsageBuffer(client, timeout=1.0)
    await buffer.record(_use())
    await client.delete(keys.REVOCATION_EPOCH)
    # a bump of a missing epoch does not start it at 1 (a value a process may have cached under)
    await _bump(client)
    assert int(await client.get(keys.REVOCATION_EPOCH) or 0) > 1_000_000
    await client.delete(keys.REVOCATION_EPOCH)
    assert await buffer.record(_use()) is None  # unknown: the caller goes to the database
    assert buffer.epoch_seen is None


@dataclass
class Restarted:
    buffer: RedisUsageBuffer
    client: Redis
    before: str  # the epoch the buffer saw before the restart
    counter: str  # its counter, which the restarted server holds again


@asynccontextmanager
async def restarted_with_its_old_counter() -> AsyncIterator[Restarted]:
    """A buffer that saw an epoch, then its Redis restarted holding that epoch's counter again, as a snapshot
    taken before a bump would bring it back."""
    with throwaway_redis() as server:
        client = Redis.from_url(server.url, decode_responses=True)
        try:
            buffer = RedisUsageBuffer(client, timeout=1.0)
            await buffer.record(_use())
            before = await buffer.record(_use())
            counter = await client.get(keys.REVOCATION_EPOCH)
            assert before is not None and counter is not None
            server.stop()
            server.start()
            for _ in range(3):  # the first command may meet a pooled connection the old server closed
                try:
                    await client.set(keys.REVOCATION_EPOCH, counter)
                    break
                except ConnectionError:
                    pass
            yield Restarted(buffer, client, before, counter)
        finally:
            await client.aclose()


async def _record_until_answered(buffer: RedisUsageBuffer, use: Use, expect: str | None = None) -> str | None:
    answer = None
    for _ in range(20):  # the pooled connection the old server closed is replaced
        answer = await buffer.record(use, expect=expect)
        if answer is not None or not buffer.degraded:
            break
        await asyncio.sleep(buffer.retry_after)
    return answer


async def test_an_epoch_restored_after_a_restart_never_matches_one_seen_before() -> None:
    """A Redis that restarts with its data (a snapshot) may bring back an epoch older than the last
    bump: the server's run id, part of the epoch a process sees, tells the two apart."""
    async with restarted_with_its_old_counter() as restarted:
        after = await _record_until_answered(restarted.buffer, _use())
        assert after is not None and after != restarted.before


async def test_a_use_cached_before_a_restart_is_not_recorded_on_a_restored_counter() -> None:
    """The run id the script compares is the one of the server at the other end of the connection
    that carries it (read when that connection connected), not one remembered from before."""
    async with restarted_with_its_old_counter() as restarted:
        # when a use answered from a cache entry of the old server is recorded on the new one
        answer = await _record_until_answered(restarted.buffer, _use(7), expect=restarted.before)
        # then it is not recorded, and the epoch seen is not the old one
        assert answer is not None and answer != restarted.before and answer.endswith(f":{restarted.counter}")
        assert await restarted.client.zscore(keys.PENDING, "ak:7") is None


async def test_the_run_id_is_read_once_per_connection_not_once_per_round_trip() -> None:
    with throwaway_redis() as server:
        client = Redis.from_url(server.url, decode_responses=True)
        try:
            buffer = RedisUsageBuffer(client, timeout=1.0)
            await buffer.record(_use())
            await client.config_resetstat()
            # when 50 round trips go, one after another, and 16 requests at once
            for pk in range(50):
                assert await buffer.record(_use(pk)) is not None
            await asyncio.gather(*(buffer.record(_use(pk)) for pk in range(16)))
            stats = await client.info("commandstats")
            # then every round trip ran the script, and INFO ran only for connections the pool opened
            # since (none: the client's own commands use the connection the first round trip left)
            assert stats["cmdstat_evalsha"]["calls"] >= 51
            assert stats.get("cmdstat_info", {"calls": 0})["calls"] <= 1  # the INFO commandstats itself
        finally:
            await client.aclose()


async def test_a_bump_redis_does_not_take_empties_the_local_cache_and_returns() -> None:
    # given a cached credential, and Redis gone
    cache = CredentialCache(size=10, seconds=60, unknown_size=10, unknown_seconds=10, keep_verified=True)
    verified = Verified(TokenKind.API_KEY, 1, 1)
    generation = cache.generation
    cache.put("digest", verified, "run:1", generation)
    assert cache.get("digest") is not None
    with throwaway_redis() as server:
        client = Redis.from_url(server.url, socket_connect_timeout=0.2, socket_timeout=0.2)
        server.kill()
        epoch.use_redis(client)
        try:
            # when
            started = time.monotonic()
            await epoch.bump_revocation_epoch()
            took = time.monotonic() - started
        finally:
            await epoch.stop_using_redis(client)
            await client.aclose()
    # then: bounded (the promise never waits on a dead Redis for long), and nothing is
    # answered from this process's cache any more, not even a verdict read before the bump
    assert took < epoch.ATTEMPTS * (epoch.ATTEMPT_SECONDS + 0.2) + 0.5
    assert cache.get("digest") is None
    cache.put("digest", verified, "run:1", generation)
    assert cache.get("digest") is None


@pytest.mark.parametrize("size", [0])
def test_a_cache_of_size_zero_keeps_nothing(size: int) -> None:
    cache = CredentialCache(size=size, seconds=60, unknown_size=size, unknown_seconds=10, keep_verified=True)
    cache.put("d", Verified(TokenKind.API_KEY, 1, 1), "run:1", cache.generation)
    cache.remember_unknown("u")
    assert cache.get("d") is None and not cache.is_unknown("u")
