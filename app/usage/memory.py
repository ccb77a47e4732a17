"""The in-process usage buffer: the embedded mode's buffer, and the Redis buffer's fallback."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from app.usage.model import UsageKind, Use


@dataclass
class MemoryBatch:
    """What a flush took from a MemoryUsageBuffer."""

    uses: list[Use]
    leftover: bool = field(default=False)

    async def chunks(self, size: int) -> AsyncIterator[list[Use]]:
        for start in range(0, len(self.uses), size):
            yield self.uses[start : start + size]


class MemoryUsageBuffer:
    """Newest use per credential in a dict. Only the event loop touches it, so no lock is needed."""

    def __init__(self) -> None:
        self._pending: dict[tuple[UsageKind, int], Use] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, use: Use) -> None:
        key = (use.kind, use.id)
        current = self._pending.get(key)
        if current is None or use.at > current.at:
            self._pending[key] = use

    async def record(self, use: Use) -> None:
        self.add(use)

    def snapshot(self) -> list[Use]:
        return list(self._pending.values())

    # ---- the flush side (UsageSource) ----

    async def take(self) -> MemoryBatch | None:
        if not self._pending:
            return None
        taken, self._pending = self._pending, {}
        return MemoryBatch(list(taken.values()))

    async def complete(self, batch: MemoryBatch) -> None:
        """Nothing to do: the batch left the buffer when it was taken."""

    async def abandon(self, batch: MemoryBatch) -> None:
        """The write failed: put the batch back (newest still wins against uses recorded since)."""
        for use in batch.uses:
            self.add(use)
