"""Throwaway PostgreSQL and Redis on free loopback ports, or existing servers the caller names.

The PostgreSQL cluster is made with `initdb` in a temporary directory (as the `postgres` OS user
when the harness runs as root, since PostgreSQL refuses to run as root), with `pg_stat_statements`
preloaded so the harness can count the statements the service sends. Durability stays at
PostgreSQL's defaults (`fsync`, `synchronous_commit` on): the batching row compares against an
UPDATE per request, whose price in production includes its WAL flush.
Everything started here is stopped and removed when the `with` block ends, also on Ctrl-C or a failure.
"""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

PG_DATABASE = "keyward_bench"
PG_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.max": "10000",
    "pg_stat_statements.track": "top",
    "max_connections": "200",
    "shared_buffers": "1GB",  # a server sized for a million tokens keeps them in its buffers
    "autovacuum": "on",
    # Checkpoints only when a benchmark asks for one: a timed one in the middle of a count would add
    # full-page images to whichever side it fell in.
    "checkpoint_timeout": "1d",
    "max_wal_size": "8GB",
}


class ServiceError(RuntimeError):
    pass


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it from the ephemeral range)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def postgres_bindir() -> Path:
    """Where initdb and pg_ctl live: $KEYWARD_BENCH_PG_BIN, the PATH, or Debian's newest /usr/lib/postgresql/N/bin."""
    if configured := os.environ.get("KEYWARD_BENCH_PG_BIN"):
        return Path(configured)
    if (found := shutil.which("initdb")) and (Path(found).resolve().parent / "createdb").exists():
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not candidates:
        raise ServiceError("initdb not found: install PostgreSQL or pass --database-url")
    return Path(candidates[-1]).parent


def _as_postgres_user() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise ServiceError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


@dataclass
class Services:
    database_url: str  # Tortoise URL of the bench database (postgres://...)
    redis_url: str
    owns_postgres: bool
    owns_redis: bool
    description: str


@contextlib.contextmanager
def postgres_cluster(workdir: Path) -> Iterator[str]:
    """A fresh cluster and an empty database; yields its URL. Stopped and deleted on exit."""
    bindir = postgres_bindir()
    root = workdir / "postgres"
    data, sockets = root / "data", root / "sockets"
    for path in (root, sockets):
        path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
    port = free_port()
    log = root / "postgres.log"
    sudo = _as_postgres_user()
    _run(
        [
            *sudo,
            str(bindir / "initdb"),
            "-D",
            str(data),
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
    settings = {**PG_SETTINGS, "port": str(port), "unix_socket_directories": str(sockets)}
    with open(data / "postgresql.auto.conf", "a") as conf:
        conf.write("".join(f"{name} = '{value}'\n" for name, value in settings.items()))
    started = False
    try:
        _run(
            [*sudo, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "start"], "pg_ctl start"
        )
        started = True
        _run(
            [*sudo, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", PG_DATABASE],
            "createdb",
        )
        yield f"postgres://postgres@127.0.0.1:{port}/{PG_DATABASE}"
    finally:
        if started:
            subprocess.run(  # noqa: S603
                [*sudo, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "30", "stop"],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


def _ping(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """`redis-server` on a free port without persistence; yields its URL. Stopped on exit."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceError("redis-server not found: install redis-server or pass --redis-url")
    root = workdir / "redis"
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    process = subprocess.Popen(  # noqa: S603
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(root),
            "--logfile",
            str(root / "redis.log"),
            "--daemonize",
            "no",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not _ping(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise ServiceError(f"redis-server did not start:\n{_tail(root / 'redis.log')}")
            time.sleep(0.05)
        yield url
    finally:
        stop_process(process)
        shutil.rmtree(root, ignore_errors=True)


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:  # type: ignore[type-arg]
    """SIGTERM, then SIGKILL if it does not exit in time. Only this one process (its own id)."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def services(database_url: str | None = None, redis_url: str | None = None) -> Iterator[Services]:
    """The bench's PostgreSQL and Redis: the given URLs, or throwaway servers started here."""
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="keyward-bench-")))
        os.chmod(workdir, 0o755)  # noqa: S103 (the postgres OS user must reach its data directory inside)
        owns_pg = database_url is None
        owns_redis = redis_url is None
        if database_url is None:
            database_url = stack.enter_context(postgres_cluster(workdir))
        if redis_url is None:
            redis_url = stack.enter_context(redis_server(workdir))
        elif not _ping(redis_url):
            raise ServiceError(f"Redis at {redis_url} does not answer")
        description = (
            f"PostgreSQL {'throwaway cluster' if owns_pg else 'given by --database-url'}, "
            f"Redis {'throwaway (no persistence)' if owns_redis else 'given by --redis-url'}"
        )
        yield Services(database_url, redis_url, owns_pg, owns_redis, description)
