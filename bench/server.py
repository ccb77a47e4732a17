"""uvicorn (one worker unless a row asks for more) in its own process, for a given app factory, on a free loopback port.

Every server the harness compares runs with the same flags (`UVICORN_FLAGS`), so a baseline and
its subject differ only in the application. The log level is `warning`, which also leaves out
uvicorn's access log (an INFO line per request) for both.
"""

import contextlib
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.database import ROOT, service_env
from bench.services import free_port, stop_process

STARTUP_SECONDS = 60
UVICORN_FLAGS = (
    "--factory",
    "--host",
    "127.0.0.1",
    "--log-level",
    "warning",
    "--proxy-headers",
    "--forwarded-allow-ips",
    "127.0.0.1",
)

REAL_APP = "app.main:create_app"
BARE_APP = "bench.bare_app:create_app"
BARE_VERIFY_APP = "bench.bare_verify:create_app"
PER_REQUEST_UPDATE_APP = "bench.per_request_update:create_app"


@dataclass
class Server:
    process: subprocess.Popen  # type: ignore[type-arg]
    factory: str
    host: str
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def rss_bytes(self) -> int:
        """Resident memory of the serving process now (VmRSS in /proc/<pid>/status)."""
        return _proc_status_kib(self.process.pid, "VmRSS") * 1024

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.factory} exited with {self.process.returncode}:\n{self.log_tail()}")


def _proc_status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            with urllib.request.urlopen(f"{server.url}/readyz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.factory} did not answer /readyz within {STARTUP_SECONDS} s:\n{server.log_tail()}")


@contextlib.contextmanager
def serve(
    factory: str, database_url: str, redis_url: str | None = None, *, workers: int = 1, **settings: str
) -> Iterator[Server]:
    """`python -m uvicorn <factory> --factory ... --workers N` with the KEYWARD_* environment; stopped on exit."""
    port = free_port()
    with tempfile.NamedTemporaryFile(prefix=f"keyward-bench-{port}-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "uvicorn", factory, *UVICORN_FLAGS, "--workers", str(workers), "--port", str(port)],
            cwd=ROOT,
            env=service_env(database_url, redis_url, **settings),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, factory, "127.0.0.1", port, log_path)
    try:
        _wait_ready(server)
        yield server
    finally:
        stop_process(process)
        log_path.unlink(missing_ok=True)


@contextlib.contextmanager
def worker(database_url: str, redis_url: str) -> Iterator[subprocess.Popen]:  # type: ignore[type-arg]
    """`keyward worker` (the arq worker that flushes buffered uses every 10 s), as in production.

    Stopped with SIGTERM, on which it flushes what is still buffered (arq's on_shutdown).
    """
    with tempfile.NamedTemporaryFile(prefix="keyward-bench-worker-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "keyward", "worker"],
            cwd=ROOT,
            env=service_env(database_url, redis_url),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        time.sleep(0.5)
        if process.poll() is not None:
            raise RuntimeError(f"keyward worker exited with {process.returncode}:\n{log_path.read_text()}")
        yield process
    finally:
        stop_process(process, timeout=30)
        log_path.unlink(missing_ok=True)
