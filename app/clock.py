"""The one clock the application reads.

Everything that stamps or compares a time asks `utcnow()`. Tests move this clock (`advance`,
`set_offset`) instead of sleeping until a session expires or a token goes stale; the offset is
per process, so a test that starts the app in another process moves that process's clock through
its own environment, not through this module.
"""

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def utcnow() -> datetime:
    """Now, in UTC (aware), moved by the offset a test set."""
    return datetime.now(UTC) + _offset


def advance(by: timedelta) -> None:
    """Move this process's clock forward (tests only)."""
    global _offset
    _offset += by


def reset() -> None:
    """Back to the real time."""
    global _offset
    _offset = timedelta(0)
