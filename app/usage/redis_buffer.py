"""The usage buffer in Redis: one round trip per request, newest use wins, safe to flush from anywhere.

Recording is one EVALSHA of a small Lua script: ``ZADD … GT CH`` keeps the newest time per
credential and, only when that time changed, ``HSET`` stores the IP beside it, so the IP always
belongs to the newest use. When Redis is slow or down, uses go to an in-process fallback buffer
(the request never fails and waits at most ``timeout``); ``drain_fallback`` pushes them back once
Redis answers again.

A flush takes the whole buffer with one atomic script (``RENAME`` pending → processing) and
deletes the processing keys only after the database committed. A processing key left by a
crashed flush is taken over by the next one; an owner marker makes sure only the flush that took
the keys last deletes them, so a slow flush can never delete what a later one took.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.usage import keys
from app.usage.memory import MemoryUsageBuffer
from app.usage.model import Use, from_micros, newest, parse_member

log = logging.getLogger("keyward.usage")

# Errors that mean "Redis is not answering well": the request path swallows these.
UNAVAILABLE: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)

RECORD_SCRIPT = """
for i = 1, #ARGV, 3 do
  if redis.call('ZADD', KEYS[1], 'GT', 'CH', ARGV[i + 1], ARGV[i]) == 1 then
    if ARGV[i + 2] == '' then
      redis.call('HDEL', KEYS[2], ARGV[i])
    else
      redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
    end
  end
end
return 1
"""

# Returns 0: nothing to flush; 1: took what was pending; 2: took over a crashed flush's keys.
TAKE_SCRIPT = """
local result = 1
if redis.call('EXISTS', KEYS[3]) == 1 then
  result = 2
else
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
  redis.call('RENAME', KEYS[1], KEYS[3])
  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', KEYS[2], KEYS[4]) end
end
redis.call('SET', KEYS[5], ARGV[1])
return result
"""

FINISH_SCRIPT = """
if redis.call('GET', KEYS[3]) == ARGV[1] then
  -- UNLINK: freeing a large taken buffer happens off Redis's main thread
  redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3])
  return 1
end
return 0
"""

DRAIN_CHUNK = 500


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _args(uses: Sequence[Use]) -> list[str | int]:
    args: list[str | int] = []
    for use in uses:
        args += [use.member, use.micros, use.ip or ""]
    return args


@dataclass
class RedisBatch:
    """The processing keys a flush owns; read in chunks so a large buffer never sits in memory at once."""

    redis: Redis
    owner: str
    leftover: bool

    async def chunks(self, size: int) -> AsyncIterator[list[Use]]:
        start = 0
        while True:
            rows = await self.redis.zrange(keys.PROCESSING, start, start + size - 1, withscores=True)
            if not rows:
                return
            members = [_text(member) for member, _ in rows]
            ips = await self.redis.hmget(keys.PROCESSING_IP, members)
            uses = []
            for (member, score), ip in zip(rows, ips, strict=True):
                parsed = parse_member(_text(member))
                if parsed is None:
                    log.warning("usage buffer: ignoring unknown member %r", member)
                    continue
                uses.append(Use(parsed[0], parsed[1], from_micros(int(score)), _text(ip) if ip else None))
            yield uses
            start += size


class RedisUsageBuffer:
    def __init__(self, redis: Redis, *, timeout: float = 0.05, retry_after: float = 1.0) -> None:
        self.redis = redis
        self.timeout = timeout
        self.retry_after = retry_after
        self.fallback = MemoryUsageBuffer()
        self._down_until = 0.0
        self._record = redis.register_script(RECORD_SCRIPT)
        self._take = redis.register_script(TAKE_SCRIPT)
        self._finish = redis.register_script(FINISH_SCRIPT)
        # Group commit: uses that arrive while a round trip is in flight ride together in the next.
        self._next: list[Use] = []
        self._next_sent: asyncio.Future[None] | None = None
        self._sender: asyncio.Task[None] | None = None

    @property
    def degraded(self) -> bool:
        return time.monotonic() < self._down_until

    def _mark_down(self, exc: BaseException) -> None:
        if not self.degraded:
            log.warning("usage buffer: Redis unavailable (%s); keeping uses in process", type(exc).__name__)
        self._down_until = time.monotonic() + self.retry_after

    async def record(self, use: Use) -> None:
        """Never raises, never waits longer than `timeout`: on trouble the use stays in process.

        The caller waits for the one round trip that carries its use. Concurrent requests share
        round trips (group commit), so a burst costs a few EVALSHAs, not one connection each.
        """
        if self.degraded:
            self.fallback.add(use)
            return
        self._next.append(use)
        if self._next_sent is None:
            self._next_sent = asyncio.get_running_loop().create_future()
        sent = self._next_sent
        if self._sender is None:
            self._sender = asyncio.create_task(self._send())
        try:
            async with asyncio.timeout(self.timeout):
                await asyncio.shield(sent)
        except Exception as exc:  # whatever went wrong, the request must not fail because of it
            if not isinstance(exc, UNAVAILABLE):
                log.error("usage buffer: unexpected %s recording a use; kept in process", type(exc).__name__)
            # Kept in process too: if the round trip still lands, the duplicate is harmless.
            self.fallback.add(use)
            self._mark_down(exc)

    async def _send(self) -> None:
        try:
            while self._next:
                uses, sent = self._next, self._next_sent
                self._next, self._next_sent = [], None
                assert sent is not None
                try:
                    await self._record(keys=[keys.PENDING, keys.PENDING_IP], args=_args(list(newest(uses).values())))
                except Exception as exc:  # handed to the waiters, who keep their uses in process
                    sent.set_exception(exc)
                    sent.exception()  # retrieved here: waiters that already timed out never read it
                else:
                    sent.set_result(None)
        finally:
            self._sender = None

    async def record_many(self, uses: Sequence[Use]) -> None:
        """Write uses straight to Redis (raises when Redis is unavailable)."""
        for start in range(0, len(uses), DRAIN_CHUNK):
            chunk = uses[start : start + DRAIN_CHUNK]
            await self._record(keys=[keys.PENDING, keys.PENDING_IP], args=_args(chunk))

    async def drain_fallback(self) -> int:
        """Move what was kept in process back into Redis; returns how many uses moved (0 on failure)."""
        batch = await self.fallback.take()
        if batch is None:
            return 0
        try:
            async with asyncio.timeout(max(self.timeout, 1.0) * 5):
                await self.record_many(batch.uses)
        except UNAVAILABLE as exc:
            await self.fallback.abandon(batch)
            self._mark_down(exc)
            return 0
        self._down_until = 0.0
        log.info("usage buffer: Redis is back; moved %d buffered uses into it", len(batch.uses))
        return len(batch.uses)

    # ---- the flush side (UsageSource) ----

    async def take(self) -> RedisBatch | None:
        owner = uuid.uuid4().hex
        taken = await self._take(keys=list(keys.ALL), args=[owner])
        if not taken:
            return None
        return RedisBatch(self.redis, owner, leftover=int(taken) == 2)

    async def complete(self, batch: RedisBatch) -> None:
        await self._finish(keys=[keys.PROCESSING, keys.PROCESSING_IP, keys.PROCESSING_OWNER], args=[batch.owner])

    async def abandon(self, batch: RedisBatch) -> None:
        """Leave the processing keys where they are: the next flush takes them over."""
