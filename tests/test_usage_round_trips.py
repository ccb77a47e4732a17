"""The request path's round trip to Redis: uses of concurrent requests share one EVALSHA, each request
waits on its own, no request waits past the timeout, and what is packed into the round trip comes
back out of Redis as it went in."""

import asyncio
from datetime import UTC, datetime

import redis.asyncio as aioredis

from app.usage import keys
from app.usage.model import UsageKind, Use, to_micros
from app.usage.redis_buffer import RedisUsageBuffer
from tests.support.throwaway_services import throwaway_redis

AK = UsageKind.API_KEY
CALLERS = 32


async def test_concurrent_callers_share_round_trips_and_read_the_epoch(redis_url: str) -> None:
    # given a buffer on a Redis that answers
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    buffer = RedisUsageBuffer(client, timeout=5.0)
    try:
        await buffer.record(Use(AK, 1, datetime.now(UTC), None))  # sets the epoch when the key is new
        # when 32 callers record a use at once
        answers = await asyncio.gather(
            *(buffer.record(Use(AK, pk, datetime.now(UTC), None)) for pk in range(1, CALLERS + 1))
        )
        # then each got the same epoch (not None), and every use is pending in Redis
        assert len(set(answers)) == 1 and answers[0] is not None
        assert await client.zcard(keys.PENDING) == CALLERS
        assert not buffer.degraded and len(buffer.fallback) == 0
    finally:
        await client.aclose()


async def test_a_caller_that_goes_away_takes_nothing_from_the_others(redis_url: str) -> None:
    # given 32 callers waiting for the same round trip
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    buffer = RedisUsageBuffer(client, timeout=5.0)
    try:
        await buffer.record(Use(AK, 1, datetime.now(UTC), None))
        callers = [asyncio.create_task(buffer.record(Use(AK, pk, datetime.now(UTC), None))) for pk in range(CALLERS)]
        await asyncio.sleep(0)  # every caller has joined the round trip
        # when one of them is cancelled (its client went away)
        callers[0].cancel()
        done = await asyncio.gather(*callers, return_exceptions=True)
        # then it alone was cancelled; the 31 others got the epoch, and Redis is not thought down
        assert isinstance(done[0], asyncio.CancelledError)
        assert all(isinstance(answer, str) and answer for answer in done[1:]), done[1:]
        assert not buffer.degraded
    finally:
        await client.aclose()


async def test_callers_behind_a_frozen_redis_wait_no_longer_than_the_timeout() -> None:
    with throwaway_redis() as server:
        client = aioredis.Redis.from_url(server.url, decode_responses=True)
        buffer = RedisUsageBuffer(client, timeout=0.1)
        try:
            await buffer.record(Use(AK, 1, datetime.now(UTC), None))
            # given Redis frozen (SIGSTOP): it accepts nothing and answers nothing
            server.freeze()
            # when 32 callers record uses, in two waves (the second queued behind the first's round trip)
            first = [asyncio.create_task(buffer.record(Use(AK, pk, datetime.now(UTC), None))) for pk in range(16)]
            await asyncio.sleep(0.05)
            second = [buffer.record(Use(AK, pk, datetime.now(UTC), None)) for pk in range(16, CALLERS)]
            # then every one of them is answered while Redis is still frozen (None: epoch unknown),
            # and the uses are kept in process
            answers = await asyncio.wait_for(asyncio.gather(*first, *second), timeout=3)
            assert answers == [None] * CALLERS
            assert len(buffer.fallback) == CALLERS and buffer.degraded
        finally:
            server.thaw()
            await client.aclose()


async def test_packed_uses_reach_redis_with_their_times_and_addresses(redis_url: str) -> None:
    # given uses from IPv4, IPv6 and unknown addresses, some conditional on an epoch
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    buffer = RedisUsageBuffer(client, timeout=5.0)
    at = datetime(2026, 12, 3, 8, 0, 0, 123456, tzinfo=UTC)
    try:
        await buffer.record(Use(AK, 99, at, None))  # sets the epoch when the key is new
        epoch = await buffer.record(Use(AK, 99, at, None))
        assert epoch is not None
        uses = [
            (Use(AK, 1, at, "192.0.2.7"), None),
            (Use(AK, 2, at, "2001:db8::1"), epoch),  # the current epoch: recorded
            (Use(AK, 3, at, None), None),
            (Use(AK, 4, at, "198.51.100.9"), "stale:1"),  # an epoch that is not current: not recorded
        ]
        # when they are recorded together
        await asyncio.gather(*(buffer.record(use, expect) for use, expect in uses))
        # then Redis holds each recorded one with its exact time and address, and not the refused one
        assert await client.zscore(keys.PENDING, "ak:1") == to_micros(at)
        assert await client.hget(keys.PENDING_IP, "ak:1") == "192.0.2.7"
        assert await client.hget(keys.PENDING_IP, "ak:2") == "2001:db8::1"
        assert await client.zscore(keys.PENDING, "ak:3") == to_micros(at)
        assert await client.hget(keys.PENDING_IP, "ak:3") is None
        assert await client.zscore(keys.PENDING, "ak:4") is None
    finally:
        await client.aclose()
