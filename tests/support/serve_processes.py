"""Real `keyward serve` processes on loopback, for tests that need more than one process.

Ports come from KEYWARD_TEST_PORTS (`tests/support/ports.py`).
"""

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60
# Clients drop idle connections well before uvicorn's keep-alive timeout (5 s): with equal
# timeouts a request can go out on a connection the server is closing (a ReadError that says
# nothing about the service).
CLIENT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=1.0)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def rss_kib(self) -> int:
        """Resident memory of the server process, from /proc/<pid>/status (VmRSS, in KiB)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("VmRSS not found")


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"keyward serve exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"keyward serve did not answer within {STARTUP_SECONDS} s:\n{server.log()}")


def keyward_environment(database_url: str, redis_url: str | None, settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without its KEYWARD_* variables, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYWARD_")}
    env["KEYWARD_DATABASE_URL"] = database_url
    if redis_url:
        env["KEYWARD_REDIS_URL"] = redis_url
    env["KEYWARD_SIGNUP"] = "open"  # tests sign up many workspaces (the default allows the first only)
    env.update({f"KEYWARD_{name.upper()}": value for name, value in settings.items()})
    return env


def _start(
    database_url: str, redis_url: str | None, settings: dict[str, str], port: int, log_level: str, workers: int = 1
) -> Server:
    env = keyward_environment(database_url, redis_url, settings)
    with tempfile.NamedTemporaryFile(prefix=f"keyward-serve-{port}-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "keyward", "serve", "--port", str(port), "--log-level", log_level),
                *(("--workers", str(workers)) if workers > 1 else ()),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return Server(process, f"http://127.0.0.1:{port}", log_path)


def _stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    server.log_path.unlink(missing_ok=True)


@contextmanager
def serve_many(
    count: int,
    database_url: str,
    redis_url: str | None = None,
    *,
    log_level: str = "warning",
    workers: int = 1,
    **settings: str,
) -> Iterator[list[Server]]:
    """`count` processes of `keyward serve` (each with `workers` uvicorn workers) with the given KEYWARD_* settings."""
    servers: list[Server] = []
    try:
        for _ in range(count):
            servers.append(_start(database_url, redis_url, settings, free_port(), log_level, workers))
        for server in servers:
            _wait_until_up(server)
        yield servers
    finally:
        for server in servers:
            _stop(server)


@contextmanager
def serve(
    database_url: str, redis_url: str | None = None, *, log_level: str = "warning", workers: int = 1, **settings: str
) -> Iterator[Server]:
    """`keyward serve` in its own process with the given KEYWARD_* settings; stopped on exit."""
    with serve_many(1, database_url, redis_url, log_level=log_level, workers=workers, **settings) as servers:
        yield servers[0]


@contextmanager
def worker(database_url: str, redis_url: str, **settings: str) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A real `keyward worker` with the given KEYWARD_* settings: the process and the file its output goes to."""
    with tempfile.NamedTemporaryFile(prefix="keyward-worker-", suffix=".log") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "keyward", "worker"],
            cwd=ROOT,
            env=keyward_environment(database_url, redis_url, settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process, Path(log.name)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def run_keyward(database_url: str, redis_url: str | None, *args: str, **settings: str) -> tuple[int, str]:
    """Run `keyward <args>` to its end with the given KEYWARD_* settings: (exit status, stdout and stderr)."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "keyward", *args),
        cwd=ROOT,
        env=keyward_environment(database_url, redis_url, settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")
