"""Anonymous documents that are expensive to validate must not stall the process: a real `keyward serve`.

Measured as the issue asks: with the limits at their defaults, 8 connections send the issue's
document (490 repeated `viewer{kind}`, a new operation name each time) to one uvicorn worker for a
bounded run while another connection probes `/healthz`; the probe's p99 must stay under 100 ms
(on main before the bound: a median of seconds). The probe runs in its own thread with its own
client, so the load's event loop does not delay it.
"""

import asyncio
import statistics
import threading
import time

import httpx

from tests.support.hostile_documents import repeated_viewer_document
from tests.support.running_app import env_int
from tests.support.serve_processes import CLIENT_LIMITS, Server, serve

CONNECTIONS = 8
RUN_SECONDS = env_int("KEYWARD_STALL_SECONDS", 5)
PROBE_INTERVAL_SECONDS = 0.01
P99_BOUND_SECONDS = 0.100


def _probe(server: Server, stop: threading.Event, latencies: list[float]) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            response = client.get("/healthz")
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200
            stop.wait(PROBE_INTERVAL_SECONDS)


async def _load(server: Server, deadline: float) -> list[int]:
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=CLIENT_LIMITS) as client:

        async def one_connection() -> None:
            while time.monotonic() < deadline:
                response = await client.post("/graphql", json={"query": repeated_viewer_document()})
                statuses.append(response.status_code)

        await asyncio.gather(*(one_connection() for _ in range(CONNECTIONS)))
    return statuses


def test_expensive_documents_from_8_connections_keep_healthz_fast(database_url: str) -> None:
    with serve(database_url) as server:
        # given: a process that has answered one such document and one probe (its first-use costs paid)
        with httpx.Client(base_url=server.base_url, timeout=60) as warm_up:
            assert warm_up.post("/graphql", json={"query": repeated_viewer_document()}).status_code < 500
            assert warm_up.get("/healthz").status_code == 200
        stop = threading.Event()
        latencies: list[float] = []
        probe = threading.Thread(target=_probe, args=(server, stop, latencies))
        # when
        probe.start()
        try:
            statuses = asyncio.run(_load(server, time.monotonic() + RUN_SECONDS))
        finally:
            stop.set()
            probe.join()
        # then
        p99 = statistics.quantiles(latencies, n=100, method="inclusive")[98]
        summary = (
            f"{len(statuses)} documents, /healthz: {len(latencies)} probes, "
            f"median {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
            f"max {max(latencies) * 1000:.1f} ms"
        )
        print(summary)
        assert set(statuses) <= {200, 400}, statuses
        assert len(latencies) >= 100, summary
        assert p99 < P99_BOUND_SECONDS, summary
