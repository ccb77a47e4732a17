"""PostgreSQL clusters and Redis servers of a test's own, on free loopback ports, that it may stop,
kill, freeze and restart (the shared servers on 5432 and 6379 are never touched). Ports come from
KEYWARD_TEST_PORTS (`tests/support/ports.py`).

    with throwaway_postgres() as pg:        # pg.url is a Tortoise/asyncpg URL
        pg.stop(); pg.start()               # a clean stop and a restart on the same port and data
        pg.freeze(); pg.thaw()              # SIGSTOP / SIGCONT of the postmaster and its backends
        pg.kill()                           # SIGKILL of the postmaster: a crash
    with throwaway_redis() as r:            # r.url
        r.stop(); r.start(); r.kill(); r.freeze(); r.thaw()

Both are removed when the block ends, also when the test fails.
"""

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.support.ports import free_port


class ServiceError(RuntimeError):
    pass


def _postgres_bindir() -> Path:
    if (found := shutil.which("initdb")) and (Path(found).resolve().parent / "pg_ctl").exists():
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not candidates:
        raise ServiceError("initdb not found: PostgreSQL's server binaries are needed for this test")
    return Path(candidates[-1]).parent


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its binaries as the `postgres` OS user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise ServiceError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (the postmaster's backends), read from /proc."""
    found: list[int] = []
    for status in glob.glob("/proc/[0-9]*/status"):
        try:
            text = Path(status).read_text()
        except OSError:
            continue
        ppid = next((line.split()[1] for line in text.splitlines() if line.startswith("PPid:")), None)
        if ppid == str(pid):
            child = int(Path(status).parent.name)
            found += [child, *_children(child)]
    return found


@dataclass
class ThrowawayPostgres:
    root: Path
    port: int
    database: str = "keyward"
    bindir: Path = field(default_factory=_postgres_bindir)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def _pg_ctl(self, *args: str) -> None:
        log = self.root / "postgres.log"
        try:
            _run(
                [*_as_postgres_user(), str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(log), *args],
                "pg_ctl",
            )
        except ServiceError as exc:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
            raise ServiceError(f"{exc}\npostgres.log (port {self.port}):\n{tail}") from None

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def start(self) -> None:
        self._pg_ctl("-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """A clean shutdown (`fast` ends open sessions; `immediate` is close to a crash)."""
        self._pg_ctl("-w", "-t", "60", "-m", mode, "stop")

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends (a crash); `start()` recovers from it."""
        pid = self.postmaster_pid()
        for child in [pid, *_children(pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.05)

    def freeze(self) -> None:
        """SIGSTOP the postmaster and every backend: connections stay open and nothing answers."""
        pid = self.postmaster_pid()
        for process in [pid, *_children(pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process, signal.SIGSTOP)

    def thaw(self) -> None:
        pid = self.postmaster_pid()
        for process in [pid, *_children(pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process, signal.SIGCONT)


@contextlib.contextmanager
def throwaway_postgres(database: str = "keyward") -> Iterator[ThrowawayPostgres]:
    """A fresh cluster with an empty database on a free port; stopped and deleted on exit."""
    with tempfile.TemporaryDirectory(prefix="keyward-pg-") as tmp:
        root = Path(tmp)
        sockets = root / "sockets"
        sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
            shutil.chown(sockets, "postgres", "postgres")
        pg = ThrowawayPostgres(root, free_port(), database)
        _run(
            [
                *_as_postgres_user(),
                str(pg.bindir / "initdb"),
                "-D",
                str(pg.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            "initdb",
        )
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(pg.port),
            "unix_socket_directories": str(sockets),
            "fsync": "off",  # a test cluster: nothing here must survive a power cut
            "max_connections": "100",
        }
        with open(pg.data / "postgresql.auto.conf", "a") as conf:
            conf.write("".join(f"{name} = '{value}'\n" for name, value in settings.items()))
        try:
            pg.start()
            _run(
                [
                    *_as_postgres_user(),
                    str(pg.bindir / "createdb"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(pg.port),
                    "-U",
                    "postgres",
                    database,
                ],
                "createdb",
            )
            yield pg
        finally:
            with contextlib.suppress(Exception):
                pg.thaw()
            if (pg.data / "postmaster.pid").exists():
                with contextlib.suppress(ServiceError):
                    pg.stop("immediate")


@dataclass
class ThrowawayRedis:
    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(  # noqa: S603
            [
                redis_server,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        try:
            while time.monotonic() < deadline:
                with contextlib.suppress(redis.RedisError, OSError):
                    if client.ping():
                        return
                time.sleep(0.05)
        finally:
            client.close()
        raise ServiceError(f"redis-server on port {self.port} did not answer")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@contextlib.contextmanager
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    """A redis-server of the test's own (nothing kept on disk) on a free port; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="keyward-redis-") as tmp:
        server = ThrowawayRedis(Path(tmp), free_port())
        server.start()
        try:
            yield server
        finally:
            if server.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    server.process.send_signal(signal.SIGCONT)
                server.kill()
