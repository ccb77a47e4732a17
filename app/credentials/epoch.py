"""The revocation epoch: how every process learns that a credential it cached may now do less.

A counter in Redis (`app.usage.keys.REVOCATION_EPOCH`). Every mutation that narrows what a
credential may do (revoke, delete, rotate, `updateManagementToken`, a member removed or demoted, a leak
revoked, the stale sweep's revocations, a project deleted with its keys) calls
`bump_revocation_epoch()` after its transaction committed and before it returns. The request path
reads the epoch in the round trip that records the use (`app.usage.redis_buffer.RECORD_SCRIPT`),
and answers from its cache only when the epoch is still the one its entry was cached under; an
entry is cached under an epoch read before the database was asked. So a request that starts after a
revoking mutation returned sees a newer epoch than every entry cached before the revocation
committed, and asks the database.

The bump runs after the commit: bumped before, a process could read the new epoch, then the row
not yet revoked, and cache it under the new epoch. A bump that fails (Redis away for this process
only) is retried in the background every second; this process's own cache is emptied at once.
Without Redis nothing is cached (`cache.CredentialCache`), so there is nothing to bump.

A bump Redis has not answered within the mutation's wait is never abandoned: it goes on a
connection of its own without a read timeout (`_Bumper.patient`), and stays sent. A Redis that is
paused (`CLIENT PAUSE`) or frozen runs it when it resumes, before any request sent after that; a
bump given up on (its connection closed) would be dropped, and a process whose entry was cached
before the pause would be answered the old epoch by the first round trip after it.
"""

import asyncio
import contextlib
import logging
import weakref
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import ConnectionPool, Redis

from app.usage import keys
from app.usage.redis_buffer import UNAVAILABLE, fresh_epoch
from app.usage.when_full import eval_when_full

log = logging.getLogger("keyward.credentials")

# INCR when the epoch exists; a missing one (Redis restarted without its data, or flushed) starts
# at a random value, so that it never comes back to a value a process cached an entry under. Taken
# by a full Redis too (`when_full`): refused, the other processes would find the old epoch once
# memory was freed, and answer the revoked credential from their cache.
BUMP_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCR', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[1])
return 0
"""

ATTEMPT_SECONDS = 1.0
ATTEMPTS = 2
RETRY_SECONDS = 1.0
RETRY_FOR_SECONDS = 600.0


class LocalCache(Protocol):
    def clear(self) -> None: ...


@dataclass
class _Bumper:
    """The process's client (whose short timeouts the retries use) and its patient copy (the first try)."""

    client: Redis
    patient: Redis


_bumpers: list[_Bumper] = []
_caches: "weakref.WeakSet[LocalCache]" = weakref.WeakSet()
_retries: set[asyncio.Task[None]] = set()


def _patient(client: Redis) -> Redis:
    """A client of the same server (address, password, TLS, database) that waits for an answer as long as it takes."""
    pool = client.connection_pool
    kwargs = {**pool.connection_kwargs, "socket_timeout": None}
    return Redis(connection_pool=ConnectionPool(connection_class=pool.connection_class, **kwargs))


def use_redis(client: Redis) -> None:
    """Bump through this client (the API process's usage client, the worker's): call at start-up."""
    if all(bumper.client is not client for bumper in _bumpers):
        _bumpers.append(_Bumper(client, _patient(client)))


async def stop_using_redis(client: Redis) -> None:
    for bumper in [bumper for bumper in _bumpers if bumper.client is client]:
        _bumpers.remove(bumper)
        with contextlib.suppress(*UNAVAILABLE):
            await bumper.patient.aclose()


def watch(cache: LocalCache) -> None:
    """Empty this cache at every bump made in this process, whether or not Redis takes the bump."""
    _caches.add(cache)


async def _eval_bump(client: Redis) -> None:
    await eval_when_full(client, BUMP_SCRIPT, [keys.REVOCATION_EPOCH], [fresh_epoch()])


async def _bump(client: Redis) -> bool:
    for attempt in range(ATTEMPTS):
        try:
            async with asyncio.timeout(ATTEMPT_SECONDS):
                await _eval_bump(client)
            return True
        except UNAVAILABLE:
            if attempt + 1 < ATTEMPTS:
                await asyncio.sleep(0.2)  # a pooled connection Redis dropped is replaced on the next try
    return False


async def _send_patiently(patient: Redis) -> None:
    async with asyncio.timeout(RETRY_FOR_SECONDS):
        await _eval_bump(patient)


async def _first_bump(patient: Redis) -> "asyncio.Task[None]":
    """Send the bump, waiting for Redis's answer at most ATTEMPT_SECONDS per try; the last try's task,
    done (taken, or failed) or still waiting for Redis, which keeps it sent."""
    for attempt in range(ATTEMPTS):
        sent = asyncio.create_task(_send_patiently(patient), name="keyward-revocation-epoch-bump")
        _retries.add(sent)  # kept even if the mutation waiting for it goes away
        sent.add_done_callback(_retries.discard)
        await asyncio.wait({sent}, timeout=ATTEMPT_SECONDS)
        if not sent.done() or sent.exception() is None or attempt + 1 == ATTEMPTS:
            return sent
        await asyncio.sleep(0.2)  # a pooled connection Redis dropped is replaced on the next try
    raise AssertionError("unreachable")


def _took(sent: "asyncio.Task[None]") -> bool:
    return sent.done() and not sent.cancelled() and sent.exception() is None


async def _retry_in_background(bumper: _Bumper, sent: "asyncio.Task[None]") -> None:
    """Until the sent bump is answered, or a new one is taken: then the other is not needed any more."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + RETRY_FOR_SECONDS
    try:
        while loop.time() < give_up:
            await asyncio.wait({sent}, timeout=RETRY_SECONDS)
            if bumper not in _bumpers:
                return
            if _took(sent) or await _bump(bumper.client):
                log.info("revocation epoch: bumped in Redis after a failed attempt")
                return
        log.error("revocation epoch: Redis did not take the bump for %.0f s; gave up", RETRY_FOR_SECONDS)
    finally:
        sent.cancel()


async def bump_revocation_epoch() -> None:
    """Tell every process that credentials they cached may have been revoked; never raises.

    Call it after the transaction that revoked, deleted or narrowed a credential committed, and
    before the mutation returns. Processes that cannot reach Redis do not use their cache, so a
    failed bump matters only while this process cannot reach Redis and others can: it is logged,
    and retried every second in the background.
    """
    for cache in list(_caches):
        cache.clear()
    bumpers = list(_bumpers)
    if not bumpers:
        from app.settings import get_settings  # a process without a usage runtime (a CLI command)

        url = get_settings().redis_url
        if not url:
            return  # no Redis: no process caches a credential (cache.CredentialCache)
        temporary = Redis.from_url(url, socket_connect_timeout=ATTEMPT_SECONDS, socket_timeout=ATTEMPT_SECONDS)
        try:
            if not await _bump(temporary):
                _log_failed_bump()
        finally:
            await temporary.aclose()
        return
    for bumper in bumpers:
        sent = await _first_bump(bumper.patient)
        if _took(sent):
            continue
        _log_failed_bump()
        task = asyncio.create_task(_retry_in_background(bumper, sent), name="keyward-revocation-epoch")
        _retries.add(task)
        task.add_done_callback(_retries.discard)


def _log_failed_bump() -> None:
    log.error(
        "revocation epoch: Redis did not take the bump; processes that reach Redis may answer a revoked "
        "credential from their cache until it does (retried every %.0f s)",
        RETRY_SECONDS,
    )
