"""The API process's side of usage: the recorder the request path calls, and its background task.

Embedded (no Redis): uses collect in process and this task flushes them to the database every
`usage_flush_seconds`, and once more at shutdown.
With Redis: the arq worker flushes; this process only moves its in-process fallback back into
Redis when Redis returns, and at shutdown writes whatever Redis would still not take straight to
the database, so a graceful shutdown loses nothing.
"""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from redis.asyncio import BlockingConnectionPool, Redis

from app.usage.flush import FlushResult, flush
from app.usage.memory import MemoryUsageBuffer
from app.usage.model import UsageKind, Use
from app.usage.redis_buffer import RedisUsageBuffer

log = logging.getLogger("keyward.usage")


def connect_redis(url: str, *, timeout: float, max_connections: int = 32) -> Redis:
    """A client for the request path: short timeouts, no retries, so a sick Redis costs little.

    The pool is bounded: under a burst, requests queue for a connection (within their timeout)
    instead of opening one connection each; a request that cannot get one in time keeps its use
    in process like any other Redis trouble.
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        decode_responses=True,
        socket_connect_timeout=max(timeout * 5, 0.25),
        socket_timeout=max(timeout * 10, 0.5),
    )
    return Redis(connection_pool=pool)


class UsageRuntime:
    def __init__(
        self,
        buffer: MemoryUsageBuffer | RedisUsageBuffer,
        *,
        flush_seconds: float,
        redis: Redis | None = None,
    ) -> None:
        self.buffer = buffer
        self.flush_seconds = flush_seconds
        self._redis = redis
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def create(
        cls,
        redis_url: str | None,
        *,
        flush_seconds: float,
        redis_timeout: float,
        retry_seconds: float,
        max_connections: int = 32,
    ) -> "UsageRuntime":
        if not redis_url:
            return cls(MemoryUsageBuffer(), flush_seconds=flush_seconds)
        redis = connect_redis(redis_url, timeout=redis_timeout, max_connections=max_connections)
        return cls(
            RedisUsageBuffer(redis, timeout=redis_timeout, retry_after=retry_seconds),
            flush_seconds=flush_seconds,
            redis=redis,
        )

    @property
    def uses_redis(self) -> bool:
        return isinstance(self.buffer, RedisUsageBuffer)

    async def record(self, kind: UsageKind, pk: int, ip: str | None, at: datetime | None = None) -> None:
        """The request path's only usage work: one Redis round trip at most, no database query."""
        await self.buffer.record(Use(kind, pk, at or datetime.now(UTC), ip))

    # ---- background work ----

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="keyward-usage")

    async def _run(self) -> None:
        while True:
            if isinstance(self.buffer, RedisUsageBuffer):
                await asyncio.sleep(self.buffer.retry_after)
                if len(self.buffer.fallback):
                    await self.buffer.drain_fallback()
            else:
                await asyncio.sleep(self.flush_seconds)
                try:
                    await flush(self.buffer)
                except Exception:
                    log.exception("usage flush failed; the uses stay buffered for the next one")

    async def flush_now(self) -> FlushResult:
        """Embedded mode: write what is buffered. With Redis: move the fallback back into Redis."""
        if isinstance(self.buffer, RedisUsageBuffer):
            await self.buffer.drain_fallback()
            return FlushResult()
        return await flush(self.buffer)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            if isinstance(self.buffer, RedisUsageBuffer):
                await self.buffer.drain_fallback()
                if len(self.buffer.fallback):
                    # Redis is still away: the database is the only place left that keeps them.
                    result = await flush(self.buffer.fallback)
                    log.info("usage: wrote %d uses Redis would not take straight to the database", result.uses)
            else:
                await flush(self.buffer)
        finally:
            if self._redis is not None:
                await self._redis.aclose()
