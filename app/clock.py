"""The one clock the application reads.

Everything that stamps or compares a time asks `utcnow()`. Tests move this clock (`advance`,
`reset`) instead of sleeping until a session expires or a token goes stale. The offset is per
process: a test that runs the app in other processes (`keyward serve`) moves their clocks through
the file named by `KEYWARD_TEST_CLOCK_FILE` (tests only): when that variable is set, the file's
content, a number of seconds, is added to every reading, so the test can move a running process's
clock by rewriting the file.
"""

import os
from datetime import UTC, datetime, timedelta

CLOCK_FILE_VARIABLE = "KEYWARD_TEST_CLOCK_FILE"

_offset = timedelta(0)
_clock_file = os.environ.get(CLOCK_FILE_VARIABLE) or None


def utcnow() -> datetime:
    """Now, in UTC (aware), moved by the offset a test set."""
    if _clock_file is not None:
        return datetime.now(UTC) + _offset + _file_offset(_clock_file)
    return datetime.now(UTC) + _offset


def advance(by: timedelta) -> None:
    """Move this process's clock forward (tests only)."""
    global _offset
    _offset += by


def reset() -> None:
    """Back to the real time."""
    global _offset
    _offset = timedelta(0)


def write_clock_file(path: str, by: timedelta) -> None:
    """Move the clocks of the processes started with `KEYWARD_TEST_CLOCK_FILE=path` to `by` ahead (tests only)."""
    temporary = f"{path}.new"
    with open(temporary, "w") as out:
        out.write(str(by.total_seconds()))
    os.replace(temporary, path)  # a process never reads a half-written file


def _file_offset(path: str) -> timedelta:
    try:
        with open(path) as source:
            return timedelta(seconds=float(source.read() or 0))
    except FileNotFoundError:
        return timedelta(0)
