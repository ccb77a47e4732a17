"""The usage buffer's depth and flush lag, sampled into their gauges.

An API process samples its own buffer (the embedded buffer, or Redis's in-process fallback) when
it is scraped and every few seconds; the worker samples Redis's buffer every few seconds. A
gauge is a reading, not an event: sampled on a timer, it stays true when nothing else happens.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from app.observability.metrics import USAGE_BUFFER_DEPTH, USAGE_FLUSH_LAG
from app.usage import keys
from app.usage.memory import MemoryUsageBuffer
from app.usage.model import from_micros
from app.usage.redis_buffer import UNAVAILABLE

log = logging.getLogger("keyward.metrics")

SAMPLE_SECONDS = 5.0
PROCESS = "process"
REDIS = "redis"


def sample_process_buffer(buffer: MemoryUsageBuffer) -> None:
    oldest = buffer.oldest()
    USAGE_BUFFER_DEPTH.labels(PROCESS).set(len(buffer))
    USAGE_FLUSH_LAG.labels(PROCESS).set(max(0.0, time.time() - oldest.at.timestamp()) if oldest else 0.0)


async def sample_redis_buffer(redis: Redis) -> None:
    """ZCARD and the oldest score of the pending set: two commands, whatever the backlog."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zcard(keys.PENDING)
        pipe.zrange(keys.PENDING, 0, 0, withscores=True)
        depth, oldest = await pipe.execute()
    USAGE_BUFFER_DEPTH.labels(REDIS).set(depth)
    lag = max(0.0, time.time() - from_micros(int(oldest[0][1])).timestamp()) if oldest else 0.0
    USAGE_FLUSH_LAG.labels(REDIS).set(lag)


async def sample_every(sample: Callable[[], Awaitable[None] | None], seconds: float = SAMPLE_SECONDS) -> None:
    """Call `sample` now and every `seconds`, forever; Redis being away skips a sample."""
    while True:
        with contextlib.suppress(*UNAVAILABLE):
            outcome = sample()
            if outcome is not None:
                await outcome
        await asyncio.sleep(seconds)
