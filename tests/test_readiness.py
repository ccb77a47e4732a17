"""/readyz reports the database and Redis, and answers within a second whatever Redis does: a real
`keyward serve` with a Redis server of the test's own, which the test freezes (SIGSTOP) and stops.

Redis away is 200 with "status": "degraded" (requests are still served, uses kept in process); only
the database makes it 503 (tests/test_database_outage.py)."""

import time
from collections.abc import Iterator

import httpx
import pytest
from openapi_core import OpenAPI

from app.http.openapi import openapi_document
from tests.support.serve_processes import Server, serve
from tests.support.throwaway_services import ThrowawayRedis, throwaway_redis
from tests.test_openapi import check_against_spec

READYZ_WITHIN_SECONDS = 1.0
SETTINGS = {"usage_flush_seconds": "3600", "stale_sweep_cron": "off", "webhook_delivery_seconds": "0"}
READY = {"status": "ok", "database": "ok", "redis": "ok", "usage": "redis"}
DEGRADED = {"status": "degraded", "database": "ok", "redis": "unavailable", "usage": "in process"}


@pytest.fixture
def redis_server() -> Iterator[ThrowawayRedis]:
    with throwaway_redis() as server:
        yield server


@pytest.fixture
def spec() -> OpenAPI:
    return OpenAPI.from_dict(openapi_document())


def readyz(server: Server, spec: OpenAPI) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(f"{server.base_url}/readyz", timeout=30)
    elapsed = time.monotonic() - started
    check_against_spec(spec, response)
    return response, elapsed


def test_a_frozen_redis_leaves_readyz_fast_and_degraded(
    database_url: str, redis_server: ThrowawayRedis, spec: OpenAPI
) -> None:
    with serve(database_url, redis_server.url, **SETTINGS) as server:
        response, _ = readyz(server, spec)
        assert (response.status_code, response.json()) == (200, READY)
        # when Redis freezes (connections open, nothing answers)
        redis_server.freeze()
        try:
            # then /readyz still answers within a second, ready but degraded, every time
            for _ in range(3):
                response, elapsed = readyz(server, spec)
                assert (response.status_code, response.json()) == (200, DEGRADED)
                assert elapsed < READYZ_WITHIN_SECONDS, elapsed
        finally:
            redis_server.thaw()
        # and says so once Redis answers again
        response, _ = readyz(server, spec)
        assert (response.status_code, response.json()) == (200, READY)


def test_a_stopped_redis_leaves_readyz_fast_and_degraded(
    database_url: str, redis_server: ThrowawayRedis, spec: OpenAPI
) -> None:
    with serve(database_url, redis_server.url, **SETTINGS) as server:
        # when Redis stops
        redis_server.stop()
        # then
        response, elapsed = readyz(server, spec)
        assert (response.status_code, response.json()) == (200, DEGRADED)
        assert elapsed < READYZ_WITHIN_SECONDS, elapsed
        # and when it is back
        redis_server.start()
        response, _ = readyz(server, spec)
        assert (response.status_code, response.json()) == (200, READY)


def test_without_redis_readyz_says_it_is_not_configured(database_url: str, spec: OpenAPI) -> None:
    with serve(database_url, **SETTINGS) as server:
        response, _ = readyz(server, spec)
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "database": "ok", "redis": "not configured"},
    )
