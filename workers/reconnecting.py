"""arq's Worker, except that Redis going away is a state to wait out, not a crash.

arq 0.28 gives up after five connection attempts at start-up and lets any Redis error in its poll
loop end the process with a traceback. Here, as Sidekiq does, the worker keeps trying with
exponential back-off (capped, with jitter) for as long as Redis is away, says so once when it
goes and once when it is back, and carries on where it was: cron ticks that fell in the outage
are skipped (the next flush takes everything), jobs that were running finish or fail on their own.

Its client has socket timeouts, so a Redis that stops answering (frozen, partitioned) counts as
gone instead of hanging the loop.

A Redis that is full (at its `maxmemory`, `noeviction`) refuses the writes arq queues its jobs with
(OOM), so no job would ever run again, and the flush is what frees it: then `on_redis_full` (the
flush, run here directly) is called before each wait, until arq can queue its jobs again.
"""

import asyncio
import contextlib
import logging
import random
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from arq.connections import ArqRedis, log_redis_info
from arq.utils import poll
from arq.worker import Worker, get_kwargs
from redis.asyncio import ConnectionPool
from redis.exceptions import OutOfMemoryError

from app.usage.availability import Availability
from app.usage.redis_buffer import UNAVAILABLE

log = logging.getLogger("keyward.worker")

CONNECT_TIMEOUT_SECONDS = 2.0
# Longer than any single command the worker sends takes on a healthy Redis.
COMMAND_TIMEOUT_SECONDS = 10.0


class Backoff:
    """0.5 s, 1 s, 2 s, … up to `maximum`, each ±20 % so that several workers do not retry in step."""

    def __init__(self, initial: float = 0.5, maximum: float = 30.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self._next = initial
        self._random = random.Random()  # noqa: S311 (jitter, not a secret)

    def next(self) -> float:
        delay = self._next
        self._next = min(self.maximum, self._next * 2)
        return delay * self._random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self._next = self.initial


class ReconnectingWorker(Worker):
    def __init__(
        self,
        *args: Any,
        redis_url: str,
        backoff: Backoff | None = None,
        on_redis_full: Callable[[dict[str, Any]], Awaitable[Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.redis_url = redis_url
        self.on_redis_full = on_redis_full
        self.backoff = backoff or Backoff()
        self.redis_state = Availability(
            log, "worker", "Redis", while_down=f"retrying with back-off (at most every {self.backoff.maximum:.0f} s)"
        )

    def _client(self) -> ArqRedis:
        pool = ConnectionPool.from_url(
            self.redis_url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=COMMAND_TIMEOUT_SECONDS
        )
        return ArqRedis(
            pool,
            default_queue_name=self.queue_name,
            expires_extra_ms=self.expires_extra_ms,
            job_serializer=self.job_serializer,
            job_deserializer=self.job_deserializer,
        )

    async def _connect(self) -> None:
        """Until Redis answers: one log line when it does not, one when it does again."""
        while True:
            client = self._client()
            try:
                await client.ping()
            except UNAVAILABLE as exc:
                with contextlib.suppress(Exception):
                    await client.aclose(close_connection_pool=True)
                self.redis_state.down(exc)
                await asyncio.sleep(self.backoff.next())
                continue
            self._pool = client
            self.redis_state.up()
            self.backoff.reset()
            return

    async def main(self) -> None:
        if self._pool is None:
            await self._connect()
        log.info("worker: running %d functions: %s", len(self.functions), ", ".join(self.functions))
        with contextlib.suppress(*UNAVAILABLE):
            await log_redis_info(self.pool, log.info)
        self.ctx["redis"] = self.pool
        if self.on_startup:
            await self.on_startup(self.ctx)
        async for _ in poll(self.poll_delay_s):
            try:
                await self._poll_iteration()
                if self.burst and await self._burst_finished():
                    return
            except UNAVAILABLE as exc:
                self.redis_state.down(exc)
                if isinstance(exc, OutOfMemoryError) and self.on_redis_full is not None:
                    with contextlib.suppress(Exception):  # whatever stops it, the loop waits and tries again
                        await self.on_redis_full(self.ctx)
                await asyncio.sleep(self.backoff.next())
                continue
            if not self.redis_state.reachable and await self._takes_writes():
                self.redis_state.up()
                self.backoff.reset()

    async def _takes_writes(self) -> bool:
        """Whether Redis takes a write again (arq's own health key). A Redis that answers but refuses writes (a
        read-only replica, a full one) lets most poll iterations through, since they only read: it is back when
        it takes a write, not at the first of those (it was said back and gone again at every cron tick)."""
        try:
            await self.pool.psetex(self.health_check_key, round((self.health_check_interval + 1) * 1000), "back")
        except UNAVAILABLE:
            return False
        return True

    async def _burst_finished(self) -> bool:
        """arq's burst rule: stop once the allowed number of jobs started, or the queue is empty."""
        if 0 <= self.max_burst_jobs <= self._jobs_started() or await self.pool.zcard(self.queue_name) == 0:
            await asyncio.gather(*self.tasks.values())
            return True
        return False

    async def close(self) -> None:
        """arq's close, except that a Redis that is away does not stop the shutdown hook from running."""
        if not self._handle_signals:
            self.handle_sig(signal.SIGUSR1)
        if not self._pool:
            return
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        with contextlib.suppress(*UNAVAILABLE):
            await self.pool.delete(self.health_check_key)
        if self.on_shutdown:
            await self.on_shutdown(self.ctx)
        with contextlib.suppress(*UNAVAILABLE):
            await self.pool.aclose(close_connection_pool=True)
        self._pool = None


def run_worker(settings_cls: Any, *, redis_url: str, **kwargs: Any) -> ReconnectingWorker:
    """`arq.worker.run_worker` for a ReconnectingWorker: the settings class's options, then `kwargs`."""
    options = {**get_kwargs(settings_cls), **kwargs}
    options.pop("redis_settings", None)
    worker = ReconnectingWorker(redis_url=redis_url, **options)
    worker.run()
    return worker
