"""The flush reads the next chunk of the buffer while the database writes the current one."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from app.usage.flush import read_ahead
from app.usage.model import UsageKind, Use


def _chunk(n: int) -> list[Use]:
    return [Use(UsageKind.MANAGEMENT_TOKEN, n, datetime.now(UTC), None)]


async def test_the_next_chunk_is_read_while_the_current_one_is_written() -> None:
    events: list[str] = []

    async def chunks() -> AsyncIterator[list[Use]]:
        for n in range(3):
            events.append(f"read {n}")
            await asyncio.sleep(0)
            yield _chunk(n)

    async for chunk in read_ahead(chunks()):
        events.append(f"write start {chunk[0].id}")
        await asyncio.sleep(0.01)  # the database's round trip
        events.append(f"write end {chunk[0].id}")
    # chunk 1 was read before the write of chunk 0 ended, and every chunk arrived once, in order
    assert events.index("read 1") < events.index("write end 0")
    assert events.index("read 2") < events.index("write end 1")
    assert [e for e in events if e.startswith("write start")] == ["write start 0", "write start 1", "write start 2"]


async def test_a_failed_write_stops_the_reading() -> None:
    reads: list[int] = []

    async def chunks() -> AsyncIterator[list[Use]]:
        for n in range(100):
            reads.append(n)
            await asyncio.sleep(0)
            yield _chunk(n)

    with pytest.raises(RuntimeError):
        async for _ in read_ahead(chunks()):
            raise RuntimeError("the database went away")
    await asyncio.sleep(0.01)
    assert reads == [0, 1]  # the one being written and the one read ahead; nothing more
