"""Prometheus metrics: scraped from a real `keyward serve` (one and two worker processes) and a real
`keyward worker`, read with prometheus_client's own text parser."""

import asyncio
import json
import re
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from app import keyward_version
from app.main import create_app
from app.observability.metrics import exported_names
from app.settings import Settings
from app.usage.model import UsageKind, Use
from app.usage.redis_buffer import RedisUsageBuffer
from tests.support.fresh_database import keyward, keyward_env, one_line_errors
from tests.support.ports import free_port
from tests.support.running_app import CLIENT_IP
from tests.support.serve_processes import serve, worker

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "metrics-scraper-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value; 0 when the series does not exist (a counter nothing has counted yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(key)[label] for (sample, key) in samples if sample == name and label in dict(key)}


async def scrape(client: httpx.AsyncClient, url: str) -> Samples:
    answer = await client.get(url, headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return parse(answer.text)


async def test_there_is_no_metrics_endpoint_unless_it_is_turned_on(app: Starlette) -> None:
    transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_a_real_server_counts_routes_operations_refusals_and_verify_answers(database_url: str) -> None:
    with serve(database_url, metrics="true", metrics_token=TOKEN) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            # given: requests of every kind
            assert (await client.get("/metrics")).status_code == 401
            assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
            before = await scrape(client, "/metrics")
            hello = await client.post("/graphql", json={"query": "query Hello { __typename }"})
            assert hello.status_code == 200
            assert hello.headers["x-request-id"]
            invalid = await client.post("/graphql", json={"query": "query Broken { noSuchField }"})
            assert invalid.json()["errors"]
            await client.post("/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "Bearer kwm_x"})
            await client.post("/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "Basic eDp5"})
            await client.post("/v1/keys/verify", json={"key": "kwk_not-a-key"})
            await client.post("/v1/keys/verify", content=b"not json")
            for n in range(3):
                assert (await client.get(f"/v1/no/such/path/{n}")).status_code == 404

            # when
            after = await scrape(client, "/metrics")

    # then
    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("keyward_graphql_operations_total", operation="Hello", type="query", outcome="ok") == 1
    assert grew("keyward_graphql_operation_duration_seconds_count", operation="Hello", type="query") == 1
    assert grew("keyward_graphql_operations_total", operation="invalid", type="query", outcome="invalid") == 1
    assert "Broken" not in label_values(after, "keyward_graphql_operations_total", "operation")
    assert grew("keyward_authentication_refusals_total", reason="malformed") == 1
    assert grew("keyward_authentication_refusals_total", reason="not_bearer") == 1
    assert grew("keyward_verify_answers_total", code="MALFORMED") == 1
    assert grew("keyward_verify_answers_total", code="BAD_REQUEST") == 1
    assert grew("keyward_http_requests_total", route="/graphql", method="POST", status="200") == 2
    assert grew("keyward_http_requests_total", route="/graphql", method="POST", status="401") == 2
    assert grew("keyward_http_requests_total", route="/v1/keys/verify", method="POST", status="200") == 1
    assert grew("keyward_http_requests_total", route="/v1/keys/verify", method="POST", status="400") == 1
    # raw paths never become labels: three different paths, one series
    assert grew("keyward_http_requests_total", route="unmatched", method="GET", status="404") == 3
    assert not any("/v1/no/such" in route for route in label_values(after, "keyward_http_requests_total", "route"))
    assert ("keyward_usage_buffer_uses", frozenset({("buffer", "process")})) in after
    assert ("keyward_usage_flush_lag_seconds", frozenset({("buffer", "process")})) in after
    assert label_values(after, "keyward_build_info", "version")


async def test_client_chosen_operation_names_stop_growing_the_label_set_at_the_cap(settings: Settings) -> None:
    # given: a process that tracks at most 3 operation names
    app = create_app(settings.model_copy(update={"metrics": True, "metrics_max_operation_names": 3}))
    prefix = f"Op{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}N{n}" for n in range(12)]
    transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 40000))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as client:
            before = parse((await client.get("/metrics")).text)
            # when: twelve names, each twice
            for name in names + names:
                await client.post("/graphql", json={"query": f"query {name} {{ __typename }}"})
            after = parse((await client.get("/metrics")).text)

    # then: the first three have their own series, the other nine are "other"
    seen = {op for op in label_values(after, "keyward_graphql_operations_total", "operation") if op.startswith(prefix)}
    assert seen == set(names[:3])
    for name in names[:3]:
        assert value(after, "keyward_graphql_operations_total", operation=name, type="query", outcome="ok") == 2
    other = {"operation": "other", "type": "query", "outcome": "ok"}
    assert (
        value(after, "keyward_graphql_operations_total", **other)
        - value(before, "keyward_graphql_operations_total", **other)
        == 18
    )


async def test_with_two_worker_processes_one_scrape_counts_the_requests_of_both(database_url: str) -> None:
    with serve(database_url, workers=2, metrics="true", metrics_token=TOKEN) as server:
        # given: requests on fresh connections, which the kernel spreads over both processes
        for _ in range(40):
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                assert (await client.get("/healthz")).status_code == 200
        # when: scraped several times (each scrape may be answered by either process)
        totals = set()
        for _ in range(6):
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                samples = await scrape(client, "/metrics")
            totals.add(value(samples, "keyward_http_requests_total", route="/healthz", method="GET", status="200"))
    # then: every answer counts all 40
    assert totals == {40.0}


async def _record_uses(redis_url: str, count: int) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        now = datetime.now(UTC)
        uses = [Use(UsageKind.MANAGEMENT_TOKEN, 10_000_000 + n, now, "192.0.2.1") for n in range(count)]
        await RedisUsageBuffer(client, timeout=5.0).record_many(uses)
    finally:
        await client.aclose()


async def _scrape_until(
    url: str, done: Callable[[Samples], bool], process_alive: Callable[[], bool], within: float = 60.0
) -> Samples:
    """Scrape until `done` holds (a deadline for a broken worker, not a speed requirement)."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as client:
        while True:
            assert process_alive(), "the worker exited"
            try:
                samples = await scrape(client, url)
            except httpx.TransportError:
                samples = {}
            if samples and done(samples):
                return samples
            assert time.monotonic() < deadline, f"not seen within {within} s: {sorted(k for k, _ in samples)}"
            await asyncio.sleep(0.25)


async def test_the_worker_serves_its_own_metrics(app: Starlette, database_url: str, redis_url: str) -> None:
    # given: uses waiting in Redis, and a worker with metrics on its own port
    await _record_uses(redis_url, 5)
    port = free_port()
    settings = {
        "metrics": "true",
        "metrics_token": TOKEN,
        "worker_metrics_port": str(port),
        "usage_flush_seconds": "1",
        "stale_sweep_cron": "off",
        "webhook_delivery_seconds": "1",
    }
    with worker(database_url, redis_url, **settings) as (process, log):
        url = f"http://127.0.0.1:{port}/metrics"

        def flushed(samples: Samples) -> bool:
            return (
                value(samples, "keyward_worker_jobs_total", job="flush_usage", outcome="success") >= 1
                and value(samples, "keyward_usage_flushed_uses_total") >= 5
                and value(samples, "keyward_worker_jobs_total", job="deliver_webhooks", outcome="success") >= 1
            )

        samples = await _scrape_until(url, flushed, lambda: process.poll() is None)
        async with httpx.AsyncClient() as client:
            assert (await client.get(url)).status_code == 401
        output = log.read_text()

    # then: job outcomes and durations, the flush, and the Redis buffer's gauges
    assert value(samples, "keyward_worker_job_duration_seconds_count", job="flush_usage") >= 1
    assert value(samples, "keyward_usage_flush_duration_seconds_count") >= 1
    assert value(samples, "keyward_usage_flushes_total", outcome="ok") >= 1
    assert value(samples, "keyward_usage_last_flush_timestamp_seconds") > 0
    assert ("keyward_usage_buffer_uses", frozenset({("buffer", "redis")})) in samples
    assert ("keyward_usage_flush_lag_seconds", frozenset({("buffer", "redis")})) in samples
    assert f"metrics at http://127.0.0.1:{port}/metrics" in output
    assert f"keyward {keyward_version()} worker: database " in output  # the start-up line


def test_a_worker_metrics_port_in_use_stops_the_worker_with_one_line(database_url: str, redis_url: str) -> None:
    # given the worker's metrics port taken by another program
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = keyward_env(database_url, redis_url=redis_url, metrics="true", worker_metrics_port=str(port))
        # when the worker starts (it stopped with an OSError traceback)
        done = keyward("worker", "--burst", env=env, timeout=60)
    # then it exits non-zero with one line naming the settings and the reason
    assert done.returncode == 1, done.stderr
    errors = one_line_errors(done.stderr, "worker")
    assert len(errors) == 1 and "KEYWARD_WORKER_METRICS_PORT" in errors[0], done.stderr
    assert "Address already in use" in errors[0] and "Traceback" not in done.stderr


def test_the_grafana_dashboard_parses_and_charts_only_metrics_that_exist() -> None:
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert expressions
    exported = exported_names()
    for expression in expressions:
        named = set(re.findall(r"\bkeyward_[a-z0-9_]+", expression))
        assert named, expression
        assert named <= exported, f"{expression}: {named - exported} is not a metric Keyward exports"
