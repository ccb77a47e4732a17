"""The flush: buffer → database, the same function for the arq worker and the embedded mode.

Single-flight: a flush first holds the buffer's lease (`lease.py`); a flush that cannot get it
does nothing (`FlushResult.skipped`), unless it was asked to `wait` for the one that holds it.

Order of steps, and why a crash between any two loses nothing:
1. take the whole buffer atomically (Redis: RENAME to the processing key; in process: swap the dict);
2. write it in batches with set-based UPDATEs that keep the newest time (a replay is harmless);
   rows the database refuses are isolated and set aside (`isolation.py`), the rest is written;
3. only after the database has the rows, drop what was taken (only while still holding the lease).
A crash before 3 leaves the processing key for the first flush after the lease expired (Redis),
or puts the batch back (in process).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from app.usage.dead_letters import DeadLetter
from app.usage.isolation import write_isolating
from app.usage.lease import Lease
from app.usage.model import Use

BATCH_SIZE = 5000

Hook = Callable[[str], Awaitable[None]]


class Batch(Protocol):
    leftover: bool
    unreadable: int

    def chunks(self, size: int) -> AsyncIterator[list[Use]]: ...


class UsageSource(Protocol):
    def exclusive(self, *, wait: float | None) -> AbstractAsyncContextManager[Lease | None]: ...
    async def take(self, lease: Lease) -> Batch | None: ...
    async def complete(self, batch: Batch) -> None: ...
    async def abandon(self, batch: Batch) -> None: ...
    async def set_aside(self, letters: Sequence[DeadLetter]) -> None: ...


@dataclass(frozen=True)
class FlushResult:
    uses: int = 0
    rows_changed: int = 0
    batches: int = 0
    dead_lettered: int = 0  # refused by the database or unreadable: set aside, not written
    skipped: bool = False  # another flush held the lease


async def read_ahead(chunks: AsyncIterator[list[Use]]) -> AsyncIterator[list[Use]]:
    """Each chunk, while the next one is already being read.

    Reading a chunk (Redis round trips, parsing) then happens while the database applies the one
    before: the database works in its own process, so the two overlap instead of taking turns.
    """
    pending: asyncio.Future[list[Use] | None] = asyncio.ensure_future(anext(chunks, None))
    try:
        while (chunk := await pending) is not None:
            pending = asyncio.ensure_future(anext(chunks, None))
            yield chunk
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending


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
    async with source.exclusive(wait=wait) as lease:
        if lease is None:
            return FlushResult(skipped=True)
        return await _flush_holding(source, lease, batch_size, hook)


async def _flush_holding(source: UsageSource, lease: Lease, batch_size: int, hook: Hook | None) -> FlushResult:
    uses = changed = batches = refused = unreadable = 0
    # At most two rounds: first a batch a dead flush left behind, then what is pending now.
    for _ in range(2):
        batch = await source.take(lease)
        if batch is None:
            break
        try:
            if hook:
                await hook("taken")
            async for chunk in read_ahead(batch.chunks(batch_size)):
                lease.check()
                outcome = await write_isolating(chunk)
                if outcome.refused:
                    await source.set_aside(outcome.refused)
                changed += outcome.changed
                refused += len(outcome.refused)
                uses += len(chunk)
                batches += 1
            if hook:
                await hook("written")
        except BaseException:
            await source.abandon(batch)
            raise
        unreadable += batch.unreadable
        await source.complete(batch)
        if not batch.leftover:
            break
    return FlushResult(uses, changed, batches, refused + unreadable)
