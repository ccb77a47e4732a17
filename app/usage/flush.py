"""The flush: buffer → database, the same function for the arq worker and the embedded mode.

Single-flight: a flush first holds the buffer's lease (`lease.py`); a flush that cannot get it
does nothing (`FlushResult.skipped`), unless it was asked to `wait` for the one that holds it.

It works in rounds of at most one batch, newest uses first, until the buffer is empty. Order of
steps in a round, and why a crash between any two loses nothing:
1. take a round atomically (Redis: ZPOPMAX into a round key of its own; in process: pop from the dict);
2. write it with set-based UPDATEs that keep the newest time (a replay is harmless); rows the
   database refuses are isolated and set aside (`isolation.py`), the rest is written;
3. only after the database has the rows, drop the round (only while still holding the lease).
A crash before 3 leaves the round for the first flush after the lease expired (Redis), or puts
it back (in process). The next round is taken while the database writes the current one.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from app.observability import metrics
from app.usage.dead_letters import DeadLetter
from app.usage.isolation import write_isolating
from app.usage.lease import Lease

BATCH_SIZE = 5000

Hook = Callable[[str], Awaitable[None]]
T = TypeVar("T")


class UsageSource(Protocol):
    def exclusive(self, *, wait: float | None) -> AbstractAsyncContextManager[Lease | None]: ...
    def rounds(self, lease: Lease, size: int) -> AsyncIterator[Any]: ...
    async def complete(self, round_: Any, lease: Lease) -> None: ...
    async def abandon(self, round_: Any) -> None: ...
    async def set_aside(self, letters: Sequence[DeadLetter]) -> None: ...


@dataclass(frozen=True)
class FlushResult:
    uses: int = 0
    rows_changed: int = 0
    batches: int = 0
    dead_lettered: int = 0  # refused by the database or unreadable: set aside, not written
    skipped: bool = False  # another flush held the lease


async def read_ahead(
    chunks: AsyncIterator[T], unused: Callable[[T], Awaitable[None]] | None = None
) -> AsyncGenerator[T, None]:
    """Each chunk, while the next one is already being read.

    Reading a chunk (Redis round trips, parsing) then happens while the database applies the one
    before: the database works in its own process, so the two overlap instead of taking turns.
    When the caller stops early, a chunk already read ahead is handed to `unused`.
    """
    pending: asyncio.Future[T | None] = asyncio.ensure_future(anext(chunks, None))
    try:
        while (chunk := await pending) is not None:
            pending = asyncio.ensure_future(anext(chunks, None))
            yield chunk
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
        elif unused is not None and not pending.cancelled() and pending.exception() is None:
            if (ahead := pending.result()) is not None:
                await unused(ahead)


async def flush(
    source: UsageSource,
    *,
    batch_size: int = BATCH_SIZE,
    hook: Hook | None = None,
    wait: float | None = 0.0,
) -> FlushResult:
    """Write everything buffered so far, unless another flush is running (then return `skipped`).

    `wait`: how long to wait for a running flush to finish first (None: as long as it runs; its
    lease bounds that when its owner died). `hook(step)` runs after "taken" and "written" (tests crash there).
    """
    started = time.perf_counter()
    try:
        async with source.exclusive(wait=wait) as lease:
            if lease is None:
                metrics.USAGE_FLUSHES.labels("skipped").inc()
                return FlushResult(skipped=True)
            result = await _flush_holding(source, lease, batch_size, hook)
    except Exception:
        metrics.USAGE_FLUSHES.labels("failed").inc()
        raise
    metrics.USAGE_FLUSHES.labels("ok").inc()
    metrics.USAGE_FLUSH_DURATION.observe(time.perf_counter() - started)
    metrics.USAGE_FLUSHED_USES.inc(result.uses)
    metrics.USAGE_LAST_FLUSH.set(time.time())
    return result


async def _flush_holding(source: UsageSource, lease: Lease, batch_size: int, hook: Hook | None) -> FlushResult:
    uses = changed = batches = set_aside = 0
    # aclosing: when a write fails, the round already read ahead goes back at once, not when the
    # generator is garbage-collected.
    async with contextlib.aclosing(read_ahead(source.rounds(lease, batch_size), unused=source.abandon)) as rounds:
        async for round_ in rounds:
            try:
                if hook:
                    await hook("taken")
                for start in range(0, len(round_.uses), batch_size):
                    lease.check()
                    chunk = round_.uses[start : start + batch_size]
                    outcome = await write_isolating(chunk)
                    if outcome.refused:
                        await source.set_aside(outcome.refused)
                    changed += outcome.changed
                    set_aside += len(outcome.refused)
                    uses += len(chunk)
                    batches += 1
                if hook:
                    await hook("written")
            except BaseException:
                await source.abandon(round_)
                raise
            set_aside += round_.unreadable
            await source.complete(round_, lease)
    return FlushResult(uses, changed, batches, set_aside)
