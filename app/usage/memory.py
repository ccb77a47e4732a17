"""The in-process usage buffer: the embedded mode's buffer, and the Redis buffer's fallback."""

import itertools
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from app.usage import dead_letters
from app.usage.dead_letters import DeadLetter
from app.usage.lease import Lease, LocalLease
from app.usage.model import UsageKind, Use

log = logging.getLogger("keyward.usage")


@dataclass
class MemoryRound:
    """Uses a flush took out of a MemoryUsageBuffer."""

    uses: list[Use]
    leftover: bool = field(default=False)
    unreadable: int = field(default=0)


class MemoryUsageBuffer:
    """Newest use per credential in a dict. Only the event loop touches it, so no lock is needed to record."""

    def __init__(self) -> None:
        self._pending: dict[tuple[UsageKind, int], Use] = {}
        self._flushing = LocalLease()

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, use: Use) -> None:
        key = (use.kind, use.id)
        current = self._pending.get(key)
        if current is None or use.at > current.at:
            self._pending[key] = use

    async def record(self, use: Use, expect: str | None = None) -> str | None:
        """Keep the use; there is no revocation epoch in process (None: unknown), so `expect` never matches."""
        if expect is None:
            self.add(use)
        return None

    def oldest(self) -> Use | None:
        """The use that has waited longest (for the flush-lag gauge; walks the buffer)."""
        return min(self._pending.values(), key=lambda use: use.at, default=None)

    def snapshot(self) -> list[Use]:
        return list(self._pending.values())

    def discard(self, uses: list[Use]) -> None:
        """Forget these uses (they are safe elsewhere), except where a newer one was recorded since."""
        for use in uses:
            key = (use.kind, use.id)
            if self._pending.get(key) == use:
                del self._pending[key]

    # ---- the flush side (UsageSource) ----

    def exclusive(self, *, wait: float | None) -> AbstractAsyncContextManager[Lease | None]:
        """One flush of this buffer at a time, so whoever waits for a flush sees it finished."""
        return self._flushing.hold(wait=wait)

    async def rounds(self, lease: Lease, size: int) -> AsyncIterator[MemoryRound]:
        """Rounds of at most `size` uses until the buffer is empty (the newest recorded since go in too)."""
        while self._pending:
            taken = list(itertools.islice(self._pending, size))
            yield MemoryRound([self._pending.pop(key) for key in taken])
            if len(taken) < size:
                return

    async def complete(self, round_: MemoryRound, lease: Lease | None = None) -> None:
        """Nothing to do: the round left the buffer when it was taken."""

    async def abandon(self, round_: MemoryRound) -> None:
        """The write failed: put the round back (newest still wins against uses recorded since)."""
        for use in round_.uses:
            self.add(use)

    async def set_aside(self, letters: Sequence[DeadLetter]) -> None:
        """In process there is nowhere else to keep them: the log line and the metric are the record."""
        dead_letters.report(letters)
