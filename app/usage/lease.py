"""Single-flight for the flush: an exclusive lease with an owner and an expiry, like GitLab's ExclusiveLease.

With Redis the lease is a key holding the owner's random id, set with ``NX`` and an expiry. The
owner renews it (a third of the period, while it works) and releases it when done; every step
that changes the buffer's state checks in the same Lua script that it still owns it. A flush that
finds the lease held does not run (the cron's next tick comes soon); a worker killed mid-flush
stops renewing, its lease expires, and the next flush takes over what it had taken.

In process (the embedded buffer) the same role is played by an asyncio lock: only one flush of
that buffer at a time, and whoever needs a finished flush (the stale sweep) waits for it.
"""

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator

from redis.asyncio import Redis

from app.usage import keys
from app.usage.when_full import eval_when_full

log = logging.getLogger("keyward.usage")

# Taken by a full Redis too (`when_full`): the flush is what frees it.
ACQUIRE_SCRIPT = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""

RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# How often a caller that waits for the lease asks again.
WAIT_POLL_SECONDS = 0.1


def new_owner() -> str:
    """`host:pid:random`: unique, and it tells an operator (or a test) which process holds the lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"


class LeaseLost(RuntimeError):
    """The lease expired and another flush took over: this one must stop and change nothing."""


class Lease:
    """Held by one flush. `check()` before each step that would act on what it took."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.lost = False

    def check(self) -> None:
        if self.lost:
            raise LeaseLost(f"flush lease {self.owner} expired and was taken over")


class LocalLease:
    """Single-flight within one process (the in-process buffer)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def hold(self, *, wait: float | None) -> AsyncIterator[Lease | None]:
        """Yield a Lease, or None when another flush holds it and `wait` (seconds; None: forever) ran out."""
        try:
            if wait is None:
                await self._lock.acquire()
            elif wait <= 0:
                if self._lock.locked():
                    yield None
                    return
                await self._lock.acquire()
            else:
                async with asyncio.timeout(wait):
                    await self._lock.acquire()
        except TimeoutError:
            yield None
            return
        try:
            yield Lease(new_owner())
        finally:
            self._lock.release()


class RedisLease:
    """Single-flight across every worker that shares the Redis buffer."""

    def __init__(self, redis: Redis, *, seconds: float, key: str = keys.FLUSH_LEASE) -> None:
        self.redis = redis
        self.key = key
        self.seconds = seconds
        self._renew = redis.register_script(RENEW_SCRIPT)
        self._release = redis.register_script(RELEASE_SCRIPT)

    @property
    def millis(self) -> int:
        return max(1, round(self.seconds * 1000))

    async def try_acquire(self) -> Lease | None:
        owner = new_owner()
        if await eval_when_full(self.redis, ACQUIRE_SCRIPT, [self.key], [owner, str(self.millis)]):
            return Lease(owner)
        return None

    async def renew(self, lease: Lease) -> bool:
        if await self._renew(keys=[self.key], args=[lease.owner, self.millis]):
            return True
        lease.lost = True
        return False

    async def release(self, lease: Lease) -> None:
        await self._release(keys=[self.key], args=[lease.owner])

    async def _keep_renewing(self, lease: Lease) -> None:
        """Renew every third of the period; when Redis fails to answer, the lease counts as lost once it expired."""
        renewed_at = time.monotonic()
        while not lease.lost:
            await asyncio.sleep(self.seconds / 3)
            try:
                if not await self.renew(lease):
                    log.warning("usage flush: lease %s was taken over; this flush stops", lease.owner)
                    return
                renewed_at = time.monotonic()
            except Exception as exc:  # Redis trouble: the flush's own Redis calls will fail too
                if time.monotonic() - renewed_at >= self.seconds:
                    lease.lost = True
                    log.warning("usage flush: could not renew lease %s (%s)", lease.owner, type(exc).__name__)
                    return

    @contextlib.asynccontextmanager
    async def hold(self, *, wait: float | None) -> AsyncIterator[Lease | None]:
        """Yield a Lease renewed while the block runs, or None when another flush held it throughout `wait`."""
        deadline = None if wait is None else time.monotonic() + max(0.0, wait)
        lease = await self.try_acquire()
        while lease is None and (deadline is None or time.monotonic() < deadline):
            await asyncio.sleep(WAIT_POLL_SECONDS)
            lease = await self.try_acquire()
        if lease is None:
            yield None
            return
        renewer = asyncio.create_task(self._keep_renewing(lease), name="keyward-flush-lease")
        try:
            yield lease
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            if not lease.lost:
                with contextlib.suppress(Exception):  # unreachable Redis: the lease expires by itself
                    await self.release(lease)
