"""Anonymous documents that are expensive to validate must not stall the process: a real `keyward serve`.

Measured as the issue asks: with the limits at their defaults, 8 connections send the issue's
document (490 repeated `viewer{kind}`, a new operation name each time), or one that spends the whole
token limit on an argument list (so that it passes the scan before parsing and is parsed), to one
uvicorn worker for a bounded run while this test probes `/healthz` every 10 ms on a connection of its own; the probes' p99,
each counted from when it was due, must stay under 100 ms (on main before the bound: the loop was
blocked for the whole run, tens of seconds). The load runs in a
process of its own (`tests/support/hostile_load.py`), so the probe shares no interpreter with it.

The bound is absolute, so the machine must be able to meet it at all: the same run with
`{ __typename }` goes first, and when even that misses 100 ms (a machine shared by many test runs:
load averages of 20 on 2 cores did) the test is skipped with both figures, not judged.
"""

import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.hostile_documents import repeated_viewer_document
from tests.support.running_app import env_int
from tests.support.serve_processes import Server, serve

CONNECTIONS = 8
RUN_SECONDS = env_int("KEYWARD_STALL_SECONDS", 5)
PROBE_INTERVAL_SECONDS = 0.01
P99_BOUND_SECONDS = 0.100
REPOSITORY = Path(__file__).resolve().parent.parent


def _probe_while(server: Server, load: subprocess.Popen[bytes]) -> list[float]:
    """Latencies of probes due every PROBE_INTERVAL_SECONDS, each measured from when it was due.

    Measured from the send instead, a probe stuck behind a minute-long stall would be one slow
    sample among hundreds of fast ones (coordinated omission): the probes that could not be sent
    meanwhile count as waiting since they were due, as wrk2 counts them.
    """
    host, port = server.base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    latencies: list[float] = []
    start = time.perf_counter()
    due = start
    try:
        while load.poll() is None:
            time.sleep(max(0.0, due - time.perf_counter()))
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            finished = time.perf_counter()
            while due <= finished:  # every probe due until now is answered now
                latencies.append(finished - due)
                due += PROBE_INTERVAL_SECONDS
    finally:
        connection.close()
    return latencies


def _run(server: Server, kind: str) -> tuple[dict[int, int], list[float]]:
    """One bounded run of the load (`kind` names the documents) while probing: (statuses, latencies)."""
    load = subprocess.Popen(
        [
            *(sys.executable, "-m", "tests.support.hostile_load"),
            *(server.base_url, str(CONNECTIONS), str(RUN_SECONDS), kind),
        ],
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        stdout=subprocess.PIPE,
    )
    try:
        latencies = _probe_while(server, load)
    finally:
        output, _ = load.communicate(timeout=120)
    return {int(status): count for status, count in json.loads(output).items()}, latencies


def _summary(statuses: dict[int, int], latencies: list[float]) -> tuple[float, str]:
    p99 = statistics.quantiles(latencies, n=100, method="inclusive")[98]
    return p99, (
        f"{sum(statuses.values())} documents {statuses}, /healthz: {len(latencies)} probes, "
        f"median {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms"
    )


@pytest.mark.parametrize(
    "documents",
    [
        pytest.param("repeated", id="490-repeated-fields"),  # refused by the scan before parsing
        pytest.param(
            "arguments", id="argument-list-at-the-token-limit"
        ),  # parsed: only the scan's token count is spent
    ],
)
def test_expensive_documents_from_8_connections_keep_healthz_fast(database_url: str, documents: str) -> None:
    with serve(database_url) as server:
        # given: a process that has answered one such document and one probe (its first-use costs paid)
        with httpx.Client(base_url=server.base_url, timeout=60) as warm_up:
            assert warm_up.post("/graphql", json={"query": repeated_viewer_document()}).status_code < 500
            assert warm_up.get("/healthz").status_code == 200
        # and a machine that can answer within the bound at all: the same run with `{ __typename }`
        baseline_p99, baseline = _summary(*_run(server, "trivial"))
        print("trivial documents:", baseline)
        if baseline_p99 >= P99_BOUND_SECONDS:
            pytest.skip(f"this machine misses the bound with trivial documents already ({baseline}): too busy to judge")
        # when
        statuses, latencies = _run(server, documents)
        # then
        p99, summary = _summary(statuses, latencies)
        print(f"{documents} documents:", summary)
        assert set(statuses) <= {200, 400}, summary
        assert len(latencies) >= 100, summary
        assert p99 < P99_BOUND_SECONDS, f"{summary}; with trivial documents: {baseline}"
