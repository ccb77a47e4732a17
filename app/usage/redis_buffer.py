"""The usage buffer in Redis: one round trip per request, newest use wins, flushed by one worker at a time.

Recording is one EVALSHA of a small Lua script: ``ZADD … GT CH`` keeps the newest time per
credential and, only when that time changed, ``HSET`` stores the IP beside it, so the IP always
belongs to the newest use. When Redis is slow or down, uses go to an in-process fallback buffer
(the request never fails and waits at most ``timeout``); ``drain_fallback`` pushes them back once
Redis answers again.

The flush side holds the flush lease (`lease.RedisLease`): one flush at a time across every
worker. It takes the whole buffer with one atomic script (``RENAME`` pending → processing) and
deletes the processing keys only after the database committed, both only while it still owns
the lease. Processing keys left by a flush that died are taken over by the first flush after its
lease expired. Entries that cannot be read as a use, and uses the database refuses, are moved to
a capped dead-letter list instead of blocking the batch.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.usage import dead_letters, keys
from app.usage.availability import Availability
from app.usage.dead_letters import DeadLetter
from app.usage.lease import Lease, LeaseLost, RedisLease
from app.usage.memory import MemoryUsageBuffer
from app.usage.model import Use, from_micros, ip_or_none, newest, parse_member

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

# KEYS: lease, pending, pending ip, processing, processing ip; ARGV: the lease owner.
# Returns -1: the lease is not ours; 0: nothing to flush; 1: took what was pending;
# 2: processing keys are there already (a flush that died left them): take those over first.
TAKE_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call('EXISTS', KEYS[4]) == 1 then return 2 end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('DEL', KEYS[5])
redis.call('RENAME', KEYS[2], KEYS[4])
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('RENAME', KEYS[3], KEYS[5]) end
return 1
"""

# KEYS: lease, processing, processing ip; ARGV: the lease owner. 1: deleted; 0: the lease is not ours.
COMPLETE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  -- UNLINK: freeing a large taken buffer happens off Redis's main thread
  redis.call('UNLINK', KEYS[2], KEYS[3])
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

    buffer: "RedisUsageBuffer"
    lease: Lease
    leftover: bool
    unreadable: int = field(default=0)

    async def chunks(self, size: int) -> AsyncIterator[list[Use]]:
        redis = self.buffer.redis
        start = 0
        while True:
            rows = await redis.zrange(keys.PROCESSING, start, start + size - 1, withscores=True)
            if not rows:
                return
            members = [_text(member) for member, _ in rows]
            ips = await redis.hmget(keys.PROCESSING_IP, members)
            uses: list[Use] = []
            unreadable: list[DeadLetter] = []
            for member, (_, score), ip in zip(members, rows, ips, strict=True):
                use = _use_of(member, score, _text(ip) if ip else None)
                if use is None:
                    unreadable.append(
                        DeadLetter(member, repr(score), _text(ip) if ip else None, dead_letters.UNREADABLE, "not a use")
                    )
                else:
                    uses.append(use)
            if unreadable:
                self.unreadable += len(unreadable)
                await self.buffer.set_aside(unreadable)
            yield uses
            start += size


def _use_of(member: str, score: float, ip: str | None) -> Use | None:
    """A use read back from Redis, or None when the entry is not one (the IP alone is dropped when invalid)."""
    parsed = parse_member(member)
    if parsed is None:
        return None
    try:
        at = from_micros(int(score))
    except (ValueError, OverflowError, OSError):
        return None
    return Use(parsed[0], parsed[1], at, ip_or_none(ip))


class RedisUsageBuffer:
    def __init__(
        self,
        redis: Redis,
        *,
        timeout: float = 0.05,
        retry_after: float = 1.0,
        lease_seconds: float = 30.0,
    ) -> None:
        self.redis = redis
        self.timeout = timeout
        self.retry_after = retry_after
        self.fallback = MemoryUsageBuffer()
        self.state = Availability(log, "usage buffer", "Redis", while_down="keeping uses in process until it answers")
        self.lease = RedisLease(redis, seconds=lease_seconds)
        self._down_until = 0.0
        self._record = redis.register_script(RECORD_SCRIPT)
        self._take = redis.register_script(TAKE_SCRIPT)
        self._complete = redis.register_script(COMPLETE_SCRIPT)
        # Group commit: uses that arrive while a round trip is in flight ride together in the next.
        self._next: list[Use] = []
        self._next_sent: asyncio.Future[None] | None = None
        self._sender: asyncio.Task[None] | None = None

    @property
    def degraded(self) -> bool:
        """Redis did not answer the last time it was asked (uses are being kept in process)."""
        return not self.state.reachable

    def _resting(self) -> bool:
        """Within `retry_after` of a failure: do not ask Redis yet."""
        return time.monotonic() < self._down_until

    def _mark_down(self, exc: BaseException) -> None:
        self.state.down(exc)
        self._down_until = time.monotonic() + self.retry_after

    async def ping(self) -> bool:
        """Ask Redis now (bounded by the client's timeouts); updates `degraded`."""
        try:
            async with asyncio.timeout(max(self.timeout, 0.05) * 5):
                await self.redis.ping()
        except Exception as exc:
            self._mark_down(exc)
            return False
        self.state.up()
        return True

    async def record(self, use: Use) -> None:
        """Never raises, never waits longer than `timeout`: on trouble the use stays in process.

        The caller waits for the one round trip that carries its use. Concurrent requests share
        round trips (group commit), so a burst costs a few EVALSHAs, not one connection each.
        """
        if self._resting():
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
                    self.state.up()
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
        self.state.up()
        log.debug("usage buffer: moved %d uses kept in process into Redis", len(batch.uses))
        return len(batch.uses)

    # ---- the flush side (UsageSource) ----

    def exclusive(self, *, wait: float | None) -> AbstractAsyncContextManager[Lease | None]:
        return self.lease.hold(wait=wait)

    async def take(self, lease: Lease) -> RedisBatch | None:
        taken = int(
            await self._take(
                keys=[keys.FLUSH_LEASE, keys.PENDING, keys.PENDING_IP, keys.PROCESSING, keys.PROCESSING_IP],
                args=[lease.owner],
            )
        )
        if taken < 0:
            lease.lost = True
            lease.check()
        if not taken:
            return None
        return RedisBatch(self, lease, leftover=taken == 2)

    async def complete(self, batch: RedisBatch) -> None:
        done = await self._complete(
            keys=[keys.FLUSH_LEASE, keys.PROCESSING, keys.PROCESSING_IP], args=[batch.lease.owner]
        )
        if not done:
            batch.lease.lost = True
            raise LeaseLost("the flush lease expired before the batch was completed; its new owner completes it")

    async def abandon(self, batch: RedisBatch) -> None:
        """Leave the processing keys where they are: the next flush takes them over."""

    async def set_aside(self, letters: Sequence[DeadLetter]) -> None:
        """Move uses that can never be written to the capped dead-letter list, and log and count them."""
        if not letters:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(keys.DEAD_LETTERS, *(letter.to_json() for letter in letters))
            pipe.ltrim(keys.DEAD_LETTERS, 0, keys.DEAD_LETTERS_KEPT - 1)
            await pipe.execute()
        dead_letters.report(letters)
