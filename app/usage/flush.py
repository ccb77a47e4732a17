"""The flush: buffer → database, the same function for the arq worker and the embedded mode.

Order of steps, and why a crash between any two loses nothing:
1. take the whole buffer atomically (Redis: RENAME to the processing key; in process: swap the dict);
2. write it in batches with set-based UPDATEs that keep the newest time (a replay is harmless);
3. only after the database has the rows, drop what was taken.
A crash before 3 leaves the processing key for the next flush (Redis), or puts the batch back
(in process).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from tortoise import BaseDBAsyncClient

from app.usage.model import Use
from app.usage.writer import write_uses

BATCH_SIZE = 5000

Hook = Callable[[str], Awaitable[None]]


class Batch(Protocol):
    leftover: bool

    def chunks(self, size: int) -> AsyncIterator[list[Use]]: ...


class UsageSource(Protocol):
    async def take(self) -> Batch | None: ...
    async def complete(self, batch: Batch) -> None: ...
    async def abandon(self, batch: Batch) -> None: ...


@dataclass(frozen=True)
class FlushResult:
    uses: int = 0
    rows_changed: int = 0
    batches: int = 0


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
    connection: BaseDBAsyncClient | None = None,
) -> FlushResult:
    """Write everything buffered so far. `hook(step)` runs after "taken" and "written" (tests crash there)."""
    uses = changed = batches = 0
    # At most two rounds: first a batch a crashed flush left behind, then what is pending now.
    for _ in range(2):
        batch = await source.take()
        if batch is None:
            break
        try:
            if hook:
                await hook("taken")
            async for chunk in read_ahead(batch.chunks(batch_size)):
                changed += await write_uses(chunk, connection)
                uses += len(chunk)
                batches += 1
            if hook:
                await hook("written")
        except BaseException:
            await source.abandon(batch)
            raise
        await source.complete(batch)
        if not batch.leftover:
            break
    return FlushResult(uses, changed, batches)
