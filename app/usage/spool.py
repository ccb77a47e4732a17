"""A local spool for uses the database could not take: written when a flush fails and at shutdown,
written to the database by the next process that starts (or by this one once the database answers).

Each process owns one file, ``<owner>.uses`` (one JSON object per line), and holds an exclusive
``flock`` on ``<owner>.lock`` for as long as it lives. The file is replaced atomically (temporary
file, fsync, rename) with everything the process still holds each time a flush fails, and removed
after the next flush succeeds: a process killed during a database outage therefore loses only
what it received after its last failed flush. A file whose lock nobody holds belongs to a process
that is gone; `orphans` hands it to a replayer, which locks it first, so two processes starting
at once never replay one file twice at the same time (and a replay twice is harmless anyway).

The files hold credential ids, times and client addresses, never a secret; they are created 0600
in a directory created 0700.
"""

import contextlib
import fcntl
import hashlib
import logging
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import orjson

from app.usage import dead_letters
from app.usage.dead_letters import DeadLetter
from app.usage.model import Use, from_micros, ip_or_none, parse_member

log = logging.getLogger("keyward.usage")

USES_SUFFIX = ".uses"
LOCK_SUFFIX = ".lock"


def directory_for(base: str | os.PathLike[str], database_url: str) -> Path:
    """The spool folder of one database: `base/<digest of the database's address>`.

    Uses of one database are never replayed into another (ids mean other rows there) when the
    service is pointed elsewhere. The digest covers the scheme, host, port and database name (an
    SQLite file's absolute path), not the credentials, so a password change keeps the folder.
    """
    if database_url.startswith("sqlite:"):
        path = database_url.partition("://")[2]
        identity = "sqlite:" + (path if path.startswith(":memory:") else str(Path(path).absolute()))
    else:
        parts = urlsplit(database_url)
        scheme = "postgres" if parts.scheme in {"postgres", "postgresql", "asyncpg", "psycopg"} else parts.scheme
        identity = f"{scheme}://{parts.hostname}:{parts.port}{parts.path}"
    return Path(base) / hashlib.sha256(identity.encode()).hexdigest()[:16]


def encode(use: Use) -> bytes:
    return orjson.dumps({"member": use.member, "us": use.micros, "ip": use.ip}) + b"\n"


def decode(line: bytes) -> Use | None:
    """A use from one spool line, or None when the line is not one (a torn write, a foreign file)."""
    try:
        item = orjson.loads(line)
        parsed = parse_member(str(item["member"]))
        at = from_micros(int(item["us"]))
        ip = item.get("ip")
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, OverflowError, OSError):
        return None
    if parsed is None:
        return None
    return Use(parsed[0], parsed[1], at, ip_or_none(ip if isinstance(ip, str) else None))


@dataclass
class Orphan:
    """A spool file of a process that is gone, locked by this process until `done` or `release`."""

    path: Path
    lock: IO[bytes]
    uses: list[Use]

    def done(self) -> None:
        """Its uses are in the database: remove the file (and the lock file) and let go of the lock."""
        self.path.unlink(missing_ok=True)
        self.path.with_suffix(LOCK_SUFFIX).unlink(missing_ok=True)
        self.release()

    def release(self) -> None:
        self.lock.close()


class UsageSpool:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.owner = uuid.uuid4().hex
        self._lock: IO[bytes] | None = None

    @property
    def path(self) -> Path:
        return self.directory / f"{self.owner}{USES_SUFFIX}"

    @property
    def ready(self) -> bool:
        return self._lock is not None

    def open(self) -> None:
        """Create the directory (0700) and take this process's lock; raises OSError when it cannot."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = open(self._lock_path(self.owner), "ab", opener=_private)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._lock = lock

    def _lock_path(self, owner: str) -> Path:
        return self.directory / f"{owner}{LOCK_SUFFIX}"

    def close(self) -> None:
        """Let go of the lock; remove the lock file unless a spool file waits for the next start."""
        if self._lock is None:
            return
        if not self.path.exists():
            self._lock_path(self.owner).unlink(missing_ok=True)
        self._lock.close()
        self._lock = None

    def save(self, uses: Sequence[Use]) -> None:
        """Replace this process's spool file with `uses` (none: remove it), atomically and durably."""
        if not uses:
            self.clear()
            return
        if self._lock is None:
            raise OSError(f"the usage spool directory {self.directory} is not usable")
        temporary = self.path.with_suffix(".tmp")
        with open(temporary, "wb", opener=_private) as file:
            file.writelines(encode(use) for use in uses)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)
        _fsync_directory(self.directory)

    def clear(self) -> None:
        if self.path.exists():
            self.path.unlink()
            _fsync_directory(self.directory)

    def holds_uses(self) -> bool:
        return self.path.exists()

    def orphans(self) -> Iterator[Orphan]:
        """Spool files whose process is gone, each locked for the caller (skips those locked by a live process).

        Lock files of processes that are gone and left no spool file (a kill -9 with nothing to
        keep) are removed on the way.
        """
        if not self.directory.is_dir():
            return
        self._remove_stale_locks()
        for path in sorted(self.directory.glob(f"*{USES_SUFFIX}")):
            if path == self.path:
                continue
            lock = open(path.with_suffix(LOCK_SUFFIX), "ab", opener=_private)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # its process is alive and will write it itself
                lock.close()
                continue
            try:
                content = path.read_bytes()
            except FileNotFoundError:  # another process replayed it a moment ago
                path.with_suffix(LOCK_SUFFIX).unlink(missing_ok=True)
                lock.close()
                continue
            yield Orphan(path, lock, _read(path, content))

    def _remove_stale_locks(self) -> None:
        for lock_path in self.directory.glob(f"*{LOCK_SUFFIX}"):
            if lock_path.stem == self.owner or lock_path.with_suffix(USES_SUFFIX).exists():
                continue
            with contextlib.suppress(OSError), open(lock_path, "ab") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # a live process
                    continue
                lock_path.unlink(missing_ok=True)


def _read(path: Path, content: bytes) -> list[Use]:
    uses: list[Use] = []
    unreadable: list[DeadLetter] = []
    for line in content.splitlines():
        if not line.strip():
            continue
        use = decode(line)
        if use is None:
            unreadable.append(
                DeadLetter(path.name, None, None, dead_letters.UNREADABLE, "not a use: " + repr(line[:80]))
            )
        else:
            uses.append(use)
    if unreadable:
        dead_letters.report(unreadable)
    return uses


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
