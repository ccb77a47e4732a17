"""The API process's side of usage: the recorder the request path calls, and its background task.

Embedded (no Redis): uses collect in process and this task flushes them to the database every
`usage_flush_seconds`, and once more at shutdown.
With Redis: the arq worker flushes; this process moves its in-process fallback back into Redis
when Redis returns, writes it straight to the database when Redis has stayed away for a whole
flush interval, and at shutdown writes whatever Redis would still not take to the database.

Whatever the database does not take (a flush that fails, a shutdown during an outage) is also
written to this process's spool file (`spool.py`): a later start, or this process once the
database answers, writes it. A spool left by a process that is gone is written at start-up.
"""

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING

from redis.asyncio import BlockingConnectionPool, Redis

from app.clock import utcnow
from app.usage.availability import Availability
from app.usage.flush import FlushResult, flush
from app.usage.memory import MemoryUsageBuffer
from app.usage.model import UsageKind, Use, ip_or_none
from app.usage.redis_buffer import RedisUsageBuffer
from app.usage.spool import UsageSpool, directory_for

if TYPE_CHECKING:
    from app.settings import Settings

log = logging.getLogger("keyward.usage")

# Uses this process could neither write nor spool at shutdown (`keyward serve` exits non-zero then).
_dropped_at_shutdown = 0


def uses_dropped_at_shutdown() -> int:
    return _dropped_at_shutdown


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
        spool: UsageSpool | None = None,
    ) -> None:
        self.buffer = buffer
        self.flush_seconds = flush_seconds
        self.spool = spool
        self.database = Availability(
            log, "usage flush", "the database", while_down="uses stay in process and in the spool file until it answers"
        )
        self._redis = redis
        self._task: asyncio.Task[None] | None = None
        self._orphans_waiting = spool is not None
        self._fallback_flushed_at = time.monotonic()

    @classmethod
    def create(
        cls,
        redis_url: str | None,
        *,
        flush_seconds: float,
        redis_timeout: float,
        retry_seconds: float,
        max_connections: int = 32,
        spool_dir: str | None = None,
    ) -> "UsageRuntime":
        spool = UsageSpool(spool_dir) if spool_dir else None
        if not redis_url:
            return cls(MemoryUsageBuffer(), flush_seconds=flush_seconds, spool=spool)
        redis = connect_redis(redis_url, timeout=redis_timeout, max_connections=max_connections)
        return cls(
            RedisUsageBuffer(redis, timeout=redis_timeout, retry_after=retry_seconds),
            flush_seconds=flush_seconds,
            redis=redis,
            spool=spool,
        )

    @classmethod
    def from_settings(cls, settings: "Settings") -> "UsageRuntime":
        return cls.create(
            settings.redis_url,
            flush_seconds=settings.usage_flush_seconds,
            redis_timeout=settings.usage_redis_timeout_seconds,
            retry_seconds=settings.usage_redis_retry_seconds,
            max_connections=settings.usage_redis_max_connections,
            spool_dir=str(directory_for(settings.usage_spool_dir, settings.database_url)),
        )

    @property
    def redis(self) -> Redis | None:
        return self._redis

    @property
    def uses_redis(self) -> bool:
        return isinstance(self.buffer, RedisUsageBuffer)

    @property
    def in_process(self) -> MemoryUsageBuffer:
        """The uses this process holds itself: the embedded buffer, or Redis's fallback."""
        return self.buffer.fallback if isinstance(self.buffer, RedisUsageBuffer) else self.buffer

    def redis_status(self) -> str | None:
        """None without Redis; "ok", or "degraded" while Redis does not answer (uses are kept in process)."""
        if not isinstance(self.buffer, RedisUsageBuffer):
            return None
        return "degraded" if self.buffer.degraded else "ok"

    async def probe_redis(self) -> str | None:
        """`redis_status()` after asking Redis now (bounded by the request path's timeouts)."""
        if isinstance(self.buffer, RedisUsageBuffer):
            await self.buffer.ping()
        return self.redis_status()

    async def record(
        self, kind: UsageKind, pk: int, ip: str | None, at: datetime | None = None, *, expect: str | None = None
    ) -> str | None:
        """The request path's only usage work: one Redis round trip at most, no database query.

        `ip` is kept only when it is an IP address (else the use is recorded from an unknown address).
        """
        return await self.buffer.record(Use(kind, pk, at or utcnow(), ip_or_none(ip)), expect)

    @property
    def epoch_seen(self) -> str | None:
        """The revocation epoch of the last completed round trip to Redis (None: unknown or no Redis)."""
        return self.buffer.epoch_seen if isinstance(self.buffer, RedisUsageBuffer) else None

    # ---- background work ----

    async def start(self) -> None:
        if self.spool is not None:
            try:
                await asyncio.to_thread(self.spool.open)
            except OSError as exc:
                log.warning(
                    "usage: the spool folder %s is not usable (%s): uses the database cannot take at shutdown "
                    "would be dropped; set KEYWARD_USAGE_SPOOL_DIR to a writable folder",
                    self.spool.directory,
                    type(exc).__name__,
                )
            await self._replay_orphans()
        self._task = asyncio.create_task(self._run(), name="keyward-usage")

    async def _run(self) -> None:
        while True:
            if isinstance(self.buffer, RedisUsageBuffer):
                await asyncio.sleep(self.buffer.retry_after)
                await self._hand_back_fallback(self.buffer)
            else:
                await asyncio.sleep(self.flush_seconds)
                await self._flush_in_process(self.buffer)
            if self._orphans_waiting:
                await self._replay_orphans()

    async def _hand_back_fallback(self, buffer: RedisUsageBuffer) -> None:
        """Redis mode: fallback → Redis once it answers; → the database when Redis stays away a whole interval."""
        if not len(buffer.fallback):
            self._fallback_flushed_at = time.monotonic()
            return
        await buffer.drain_fallback()
        if not len(buffer.fallback):
            self._fallback_flushed_at = time.monotonic()
            await self._clear_spool()
        elif time.monotonic() - self._fallback_flushed_at >= self.flush_seconds:
            if await self._flush_in_process(buffer.fallback) is not None:
                log.debug("usage: Redis is away; wrote the uses kept in process straight to the database")
            self._fallback_flushed_at = time.monotonic()

    async def _flush_in_process(self, buffer: MemoryUsageBuffer, *, raising: bool = False) -> FlushResult | None:
        """Flush what this process holds; on failure keep it (and spool it), log once per outage."""
        try:
            result = await flush(buffer, wait=None)
        except Exception as exc:
            self.database.down(exc)
            await self._spool(buffer.snapshot())
            if raising:
                raise
            return None
        self.database.up()
        await self._clear_spool()
        return result

    async def _spool(self, uses: list[Use]) -> bool:
        if self.spool is None or not self.spool.ready:
            return False
        try:
            await asyncio.to_thread(self.spool.save, uses)
        except OSError as exc:
            log.error("usage: could not write the spool file %s (%s)", self.spool.path, type(exc).__name__)
            return False
        return True

    async def _clear_spool(self) -> None:
        if self.spool is not None and self.spool.ready and self.spool.holds_uses():
            with contextlib.suppress(OSError):
                await asyncio.to_thread(self.spool.clear)

    async def _replay_orphans(self) -> None:
        """Write the spool files of processes that are gone; keep them for the next try when that fails."""
        assert self.spool is not None
        try:
            orphans = await asyncio.to_thread(lambda: list(self.spool.orphans()) if self.spool else [])
        except OSError as exc:
            log.warning("usage: could not read the spool folder %s (%s)", self.spool.directory, type(exc).__name__)
            self._orphans_waiting = False
            return
        failed = False
        for orphan in orphans:
            if failed:
                orphan.release()
                continue
            buffer = MemoryUsageBuffer()
            for use in orphan.uses:
                buffer.add(use)
            try:
                result = await flush(buffer, wait=None)
            except Exception as exc:
                orphan.release()
                self.database.down(exc)
                failed = True
                continue
            await asyncio.to_thread(orphan.done)
            log.info("usage: wrote %d uses from the spool file %s to the database", result.uses, orphan.path.name)
        self._orphans_waiting = failed

    async def flush_now(self) -> FlushResult:
        """Write what this process holds now (raises when the database does not take it).

        Embedded: the buffer. With Redis: the fallback goes back to Redis, or to the database when
        Redis is still away (the worker flushes Redis).
        """
        if isinstance(self.buffer, RedisUsageBuffer):
            await self.buffer.drain_fallback()
            if not len(self.buffer.fallback):
                return FlushResult()
        result = await self._flush_in_process(self.in_process, raising=True)
        assert result is not None
        return result

    async def stop(self) -> None:
        """Stop the background task; write what is left, or spool it; never lose a use silently."""
        global _dropped_at_shutdown
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            if isinstance(self.buffer, RedisUsageBuffer):
                await self.buffer.drain_fallback()
            left = len(self.in_process)
            if left:
                try:
                    await flush(self.in_process, wait=None)
                except Exception as exc:
                    self.database.down(exc)
                else:
                    if self.uses_redis:
                        log.info("usage: wrote %d uses Redis would not take straight to the database", left)
                    await self._clear_spool()
                    left = 0
            if left and await self._spool(self.in_process.snapshot()):
                log.warning(
                    "usage: the database did not take %d uses at shutdown; they are in the spool file %s, "
                    "and the next start writes them",
                    left,
                    self.spool.path if self.spool else "",
                )
            elif left:
                _dropped_at_shutdown += left
                log.error(
                    "usage: dropped %d uses at shutdown: the database did not take them and no spool file could "
                    "keep them (KEYWARD_USAGE_SPOOL_DIR)",
                    left,
                )
        finally:
            if self.spool is not None:
                with contextlib.suppress(OSError):
                    self.spool.close()
            if self._redis is not None:
                await self._redis.aclose()
