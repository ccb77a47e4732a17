"""The usage buffer in Redis: one round trip per request, newest use wins, flushed by one worker at a time.

Recording is one EVALSHA of a small Lua script: ``ZADD … GT CH`` keeps the newest time per
credential and, only when that time changed, ``HSET`` stores the IP beside it, so the IP always
belongs to the newest use. When Redis is slow or down, uses go to an in-process fallback buffer
(the request never fails and waits at most ``timeout``); ``drain_fallback`` pushes them back once
Redis answers again.

The flush side holds the flush lease (`lease.RedisLease`): one flush at a time across every
worker. It takes the buffer in rounds of at most one batch, newest uses first (``ZPOPMAX`` into a
round key of its own, atomically), and deletes a round only after the database committed it, both
only while it still owns the lease. So however large a backlog is, a use recorded now is in the
next round, not behind the backlog; and rounds left by a flush that died are written by the first
flush after its lease expired. Entries that cannot be read as a use, and uses the database
refuses, are moved to a capped dead-letter list instead of blocking the batch.
"""

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.usage import dead_letters, keys
from app.usage.availability import Availability
from app.usage.dead_letters import DeadLetter
from app.usage.lease import Lease, LeaseLost, RedisLease
from app.usage.memory import MemoryUsageBuffer
from app.usage.model import Use, from_micros, ip_or_none, parse_member
from app.usage.record_call import RecordCall, as_text

log = logging.getLogger("keyward.usage")

# Errors that mean "Redis is not answering well": the request path swallows these.
UNAVAILABLE: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)

# KEYS: pending, pending ip, revocation epoch; ARGV: a fresh epoch, then the uses packed in one
# string (`_args`), one line per use: member, time (epoch microseconds), IP ('' for none) and
# expected epoch ('' for none), separated by tabs, then the run id of this Redis server (added by
# `record_call.RecordCall`, read once per connection). One argument instead of four per use:
# redis-py encodes every argument in Python, and that encoding was most of the round trip's client CPU.
# Returns the revocation epoch as "<run id>:<counter>", read in the same atomic step that records
# the uses, or '' when the epoch key is missing (a Redis restarted without its data, flushed, or
# new): then it is set to the fresh value given, and '' means "unknown". The run id changes at
# every restart, so an epoch restored from a snapshot never matches one seen before. A use with an
# expected epoch is recorded only when the epoch is still that one: a credential answered from a
# process's cache is recorded only when nothing was revoked since it was cached (app/credentials/).
RECORD_SCRIPT = """
local epoch = redis.call('GET', KEYS[3])
local current = ''
if epoch then
  current = ARGV[3] .. ':' .. epoch
else
  redis.call('SET', KEYS[3], ARGV[1])
end
local field = '([^\\t\\n]*)'
local line = field .. '\\t' .. field .. '\\t' .. field .. '\\t' .. field .. '\\n'
for member, micros, ip, expected in string.gmatch(ARGV[2], line) do
  if expected == '' or expected == current then
    if redis.call('ZADD', KEYS[1], 'GT', 'CH', micros, member) == 1 then
      if ip == '' then
        redis.call('HDEL', KEYS[2], member)
      else
        redis.call('HSET', KEYS[2], member, ip)
      end
    end
  end
end
return current
"""

# KEYS: lease, pending, pending ip, rounds, round; ARGV: lease owner, most uses, round id.
# Moves the newest uses (at most ARGV[2]) and their IPs out of pending into a round, kept as one
# JSON string ({member, score, …}, {ip or false per member}) until the round is completed, and
# returns the same two lists; {} when nothing is pending; -1 when the lease is not ours. unpack()
# stays under Lua's stack limit by moving 1,000 members at a time.
TAKE_ROUND_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local popped = redis.call('ZPOPMAX', KEYS[2], ARGV[2])
local n = #popped / 2
if n == 0 then return {} end
local ips = {}
for first = 1, n, 1000 do
  local last = math.min(first + 999, n)
  local members = {}
  for i = first, last do members[#members + 1] = popped[2 * i - 1] end
  local found = redis.call('HMGET', KEYS[3], unpack(members))
  for j = 1, #members do ips[first + j - 1] = found[j] end
  redis.call('HDEL', KEYS[3], unpack(members))
end
redis.call('SET', KEYS[5], cjson.encode({popped, ips}))
redis.call('SADD', KEYS[4], ARGV[3])
return {popped, ips}
"""

# KEYS: lease, rounds, round (and, for a processing key of an earlier version, its IP hash);
# ARGV: lease owner, round id. 1: deleted; 0: the lease is not ours.
COMPLETE_ROUND_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
-- UNLINK: freeing a large round happens off Redis's main thread
redis.call('UNLINK', unpack(KEYS, 3))
redis.call('SREM', KEYS[2], ARGV[2])
return 1
"""

# What a flush of an earlier version took (all of pending, renamed to one processing key) is
# written as a round of its own, with this id.
LEGACY_ROUND = "legacy"

DRAIN_CHUNK = 500


def fresh_epoch() -> str:
    """A starting value for a missing revocation epoch: random, so it matches no epoch seen before."""
    return str(secrets.randbits(62))


def _args(uses: Iterable[tuple[Use, str]]) -> list[str]:
    """RECORD_SCRIPT's ARGV: a fresh epoch and the packed uses. No field can hold a tab or a newline:
    members are "<kind>:<id>", times are integers, IPs are parsed addresses, epochs are Redis's."""
    packed = "".join(f"{use.member}\t{use.micros}\t{use.ip or ''}\t{expected}\n" for use, expected in uses)
    return [fresh_epoch(), packed]


def _newest_per_expectation(uses: list[tuple[Use, str]]) -> list[tuple[Use, str]]:
    """The newest use per credential and expected epoch (a conditional use never hides an unconditional one)."""
    kept: dict[tuple[str, str], Use] = {}
    for use, expected in uses:
        current = kept.get((use.member, expected))
        if current is None or use.at > current.at:
            kept[(use.member, expected)] = use
    return [(use, expected) for (_, expected), use in kept.items()]


@dataclass
class RedisRound:
    """Uses a flush took out of pending, kept under their round key until the database has them."""

    id: str
    uses: list[Use]
    leftover: bool = False  # left by a flush that died
    unreadable: int = 0


def _use_of(member: str, score: object, ip: str | None) -> Use | None:
    """A use read back from Redis, or None when the entry is not one (the IP alone is dropped when invalid)."""
    parsed = parse_member(member)
    if parsed is None:
        return None
    try:
        at = from_micros(int(float(score)))  # type: ignore[arg-type]
    except (ValueError, OverflowError, OSError, TypeError):
        return None
    return Use(parsed[0], parsed[1], at, ip_or_none(ip))


class _RoundTrip:
    """The uses of one EVALSHA and the requests waiting for its answer.

    Each request waits on a future of its own, so a request that goes away (its task cancelled)
    takes nothing from the others. One timer per round trip bounds every wait: it starts with the
    round trip's first use, so no request waits longer than `timeout` for the answer, even behind a
    round trip still in flight; then its waiters get TimeoutError (the round trip itself goes on,
    and its answer is ignored).
    """

    __slots__ = ("uses", "waiters", "timer")

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.uses: list[tuple[Use, str]] = []
        self.waiters: list[asyncio.Future[str | None]] = []
        self.timer = loop.call_later(timeout, self.fail, TimeoutError())

    def join(self, loop: asyncio.AbstractEventLoop, use: Use, expected: str) -> "asyncio.Future[str | None]":
        self.uses.append((use, expected))
        waiter: asyncio.Future[str | None] = loop.create_future()
        self.waiters.append(waiter)
        return waiter

    def answer(self, epoch: str | None) -> None:
        self.timer.cancel()
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(epoch)

    def fail(self, exc: BaseException) -> None:
        self.timer.cancel()
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_exception(exc)


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
        self.state = Availability(
            log,
            "usage buffer",
            "Redis",
            while_down="keeping uses in process (written to the database every flush interval) until it answers",
        )
        self.lease = RedisLease(redis, seconds=lease_seconds)
        self._down_until = 0.0
        self._record = RecordCall(redis, RECORD_SCRIPT)
        self._take = redis.register_script(TAKE_ROUND_SCRIPT)
        self._complete = redis.register_script(COMPLETE_ROUND_SCRIPT)
        # Group commit: uses that arrive while a round trip is in flight ride together in the next.
        self._next: _RoundTrip | None = None
        # The revocation epoch the last round trip read (None: unknown, or that round trip failed).
        self.epoch_seen: str | None = None
        self._sender: asyncio.Task[None] | None = None

    @property
    def degraded(self) -> bool:
        """Redis did not answer the last time it was asked (uses are being kept in process)."""
        return not self.state.reachable

    def _resting(self) -> bool:
        """Within `retry_after` of a failure: do not ask Redis yet."""
        return time.monotonic() < self._down_until

    def _mark_down(self, exc: BaseException) -> None:
        self.epoch_seen = None
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

    async def record(self, use: Use, expect: str | None = None) -> str | None:
        """Record the use; return the revocation epoch Redis held then, or None when it is unknown.

        Never raises, never waits longer than `timeout`: on trouble an unconditional use stays in
        process and the epoch is unknown (None). With `expect`, the use is recorded only if the
        epoch is still `expect` (the caller compares the answer with it, and on a difference
        checks the credential in the database and records the use again, unconditionally).
        The caller waits for the one round trip that carries its use, which starts after the call:
        the epoch it returns is at least as new as every bump that finished before the call.
        Concurrent requests share round trips (group commit), so a burst costs a few EVALSHAs,
        not one connection each.
        """
        if self._resting():
            if expect is None:
                self.fallback.add(use)
            return None
        loop = asyncio.get_running_loop()
        trip = self._next
        if trip is None:
            trip = self._next = _RoundTrip(loop, self.timeout)
        waiter = trip.join(loop, use, expect or "")
        if self._sender is None:
            self._sender = asyncio.create_task(self._send())
        try:
            return await waiter
        except Exception as exc:  # whatever went wrong, the request must not fail because of it
            if not isinstance(exc, UNAVAILABLE):
                log.error("usage buffer: unexpected %s recording a use; kept in process", type(exc).__name__)
            # Kept in process too: if the round trip still lands, the duplicate is harmless.
            if expect is None:
                self.fallback.add(use)
            self._mark_down(exc)
            return None

    async def _send(self) -> None:
        try:
            while self._next is not None:
                trip, self._next = self._next, None
                try:
                    answer = await self._record(
                        keys=[keys.PENDING, keys.PENDING_IP, keys.REVOCATION_EPOCH],
                        args=_args(_newest_per_expectation(trip.uses)),
                    )
                except Exception as exc:  # handed to the waiters, who keep their uses in process
                    self.epoch_seen = None
                    trip.fail(exc)
                else:
                    self.epoch_seen = answer or None
                    trip.answer(self.epoch_seen)
                    self.state.up()
        finally:
            self._sender = None

    async def record_many(self, uses: Sequence[Use]) -> None:
        """Write uses straight to Redis (raises when Redis is unavailable)."""
        for start in range(0, len(uses), DRAIN_CHUNK):
            chunk = uses[start : start + DRAIN_CHUNK]
            await self._record(
                keys=[keys.PENDING, keys.PENDING_IP, keys.REVOCATION_EPOCH], args=_args((use, "") for use in chunk)
            )

    async def drain_fallback(self) -> int:
        """Copy what was kept in process into Redis; returns how many uses moved (0 on failure).

        The uses stay in the fallback until Redis has them (then only those not superseded since
        leave it), so a failure, a cancellation or a shutdown in the middle never loses one.
        """
        uses = self.fallback.snapshot()
        if not uses:
            return 0
        try:
            async with asyncio.timeout(max(self.timeout, 1.0) * 5):
                await self.record_many(uses)
        except UNAVAILABLE as exc:
            self._mark_down(exc)
            return 0
        self.fallback.discard(uses)
        self._down_until = 0.0
        self.state.up()
        log.debug("usage buffer: moved %d uses kept in process into Redis", len(uses))
        return len(uses)

    # ---- the flush side (UsageSource) ----

    def exclusive(self, *, wait: float | None) -> AbstractAsyncContextManager[Lease | None]:
        return self.lease.hold(wait=wait)

    async def rounds(self, lease: Lease, size: int) -> AsyncIterator[RedisRound]:
        """Rounds left by a flush that died, then new rounds of at most `size`, newest first, until pending is empty.

        A round smaller than `size` means pending was empty when it was taken: the flush stops
        there, and what arrives afterwards waits for the next one. A flush also stops after one
        lease period, so that its run stays bounded under a load it cannot outrun.
        """
        async for leftover in self._leftovers(lease):
            yield leftover
        stop_at = time.monotonic() + self.lease.seconds
        while True:
            round_id = uuid.uuid4().hex
            taken = await self._take(
                keys=[keys.FLUSH_LEASE, keys.PENDING, keys.PENDING_IP, keys.ROUNDS, keys.round_key(round_id)],
                args=[lease.owner, size, round_id],
            )
            if taken == -1:
                lease.lost = True
                lease.check()
            if not taken:
                return
            popped, ips = taken
            members = [as_text(member) for member in popped[0::2]]
            round_ = await self._round(round_id, zip(members, popped[1::2], ips, strict=True))
            yield round_
            if len(members) < size or time.monotonic() >= stop_at:
                return

    async def _leftovers(self, lease: Lease) -> AsyncIterator[RedisRound]:
        """Rounds a flush that died left behind (this flush holds the lease: nobody else is writing them)."""
        if await self.redis.exists(keys.LEGACY_PROCESSING):
            rows = await self.redis.zrange(keys.LEGACY_PROCESSING, 0, -1, withscores=True)
            members = [as_text(member) for member, _ in rows]
            # redis-py types each command for the sync and the async client at once: the awaits are right.
            ips = await self.redis.hmget(keys.LEGACY_PROCESSING_IP, members) if members else []  # type: ignore[misc]
            yield await self._round(LEGACY_ROUND, zip(members, (score for _, score in rows), ips, strict=True), True)
        for round_id in sorted(as_text(member) for member in await self.redis.smembers(keys.ROUNDS)):  # type: ignore[misc]
            stored = await self.redis.get(keys.round_key(round_id))
            popped, ips = orjson.loads(stored) if stored else ([], [])
            members = [str(member) for member in popped[0::2]]
            yield await self._round(round_id, zip(members, popped[1::2], ips, strict=True), True)

    async def _round(
        self, round_id: str, entries: Iterable[tuple[str, object, object]], leftover: bool = False
    ) -> RedisRound:
        uses: list[Use] = []
        unreadable: list[DeadLetter] = []
        for member, score, raw_ip in entries:
            ip = raw_ip if isinstance(raw_ip, str) else as_text(raw_ip) if isinstance(raw_ip, bytes) else None
            use = _use_of(member, score, ip)
            if use is None:
                unreadable.append(DeadLetter(member, repr(score), ip, dead_letters.UNREADABLE, "not a use"))
            else:
                uses.append(use)
        if unreadable:
            await self.set_aside(unreadable)
        return RedisRound(round_id, uses, leftover, len(unreadable))

    async def complete(self, round_: RedisRound, lease: Lease) -> None:
        stored = (
            [keys.LEGACY_PROCESSING, keys.LEGACY_PROCESSING_IP]
            if round_.id == LEGACY_ROUND
            else [keys.round_key(round_.id)]
        )
        done = await self._complete(keys=[keys.FLUSH_LEASE, keys.ROUNDS, *stored], args=[lease.owner, round_.id])
        if not done:
            lease.lost = True
            raise LeaseLost("the flush lease expired before the round was completed; its new owner writes it")

    async def abandon(self, round_: RedisRound) -> None:
        """Leave the round where it is: the next flush writes it."""

    async def set_aside(self, letters: Sequence[DeadLetter]) -> None:
        """Move uses that can never be written to the capped dead-letter list, and log and count them."""
        if not letters:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(keys.DEAD_LETTERS, *(letter.to_json() for letter in letters))
            pipe.ltrim(keys.DEAD_LETTERS, 0, keys.DEAD_LETTERS_KEPT - 1)
            await pipe.execute()
        dead_letters.report(letters)
