"""Database outages on real services: a `keyward serve` process on a PostgreSQL cluster of the test's own,
which the test stops and freezes (SIGSTOP), then starts and thaws again.

Every endpoint answers a JSON 503 UNAVAILABLE with Retry-After (never a plain-text 500), on connections
that stay usable; /readyz answers within a second; the log has one line when the database goes and one
when it is back, and no traceback; the service recovers by itself.
"""

import asyncio
import itertools
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from app import db
from app.security.tokens import TokenKind, generate
from tests.support.api import LOG_IN, PASSWORD, SIGN_UP, Api
from tests.support.serve_processes import Server, serve
from tests.support.throwaway_services import ThrowawayPostgres, throwaway_postgres

# Short bounds, so that a frozen server is given up on quickly.
TIMEOUTS = {
    "database_connect_timeout_seconds": "1",
    "database_acquire_timeout_seconds": "1",
    "database_statement_timeout_seconds": "1",
}
# The longest a request may wait for a frozen server: a statement's client-side bound (the statement
# timeout plus app.db.DatabaseTimeouts.CLIENT_MARGIN; the connect and acquire timeouts are shorter),
# and two seconds for the rest of the request on a busy machine.
FROZEN_ANSWER_WITHIN_SECONDS = 1 + 1 + 2
READYZ_WITHIN_SECONDS = 1.0
SETTINGS = {**TIMEOUTS, "usage_flush_seconds": "3600", "stale_sweep_cron": "off", "webhook_delivery_seconds": "0"}

WENT_AWAY = "requests: the database is unavailable"
CAME_BACK = "requests: the database is available again"
PROJECTS = "{ projects(first: 5) { edges { node { id name } } } }"


_accounts = itertools.count(1)


def new_account() -> dict[str, str]:
    return {"email": f"outage{next(_accounts)}@example.com", "password": PASSWORD, "workspaceName": "Outage"}


@dataclass
class Credentials:
    email: str
    session: str
    management_token: str
    api_key: str


@pytest.fixture
def cluster() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres() as pg:
        asyncio.run(db.migrate(pg.url))
        yield pg


@asynccontextmanager
async def keep_alive_client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    """One connection, kept alive across requests (as a proxy or an SDK keeps it)."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=30)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as http:
        yield http


async def given_credentials(http: httpx.AsyncClient) -> Credentials:
    api = Api(http)
    owner = await api.sign_up()
    _, token = await api.create_token(owner, ["VIEW_PROJECTS", "MANAGE_PROJECTS", "CREATE_API_KEY"])
    project = await api.create_project(token)
    _, key = await api.create_api_key(token, project)
    return Credentials(owner.email, owner.session, token, key)


def every_endpoint(credentials: Credentials) -> list[tuple[str, httpx.Request]]:
    """One request per way in: authenticated and anonymous GraphQL (as the console sends them), GET
    queries, key verification and leak reports."""
    base = "http://keyward.test"
    bearer = {"Authorization": f"Bearer {credentials.management_token}"}
    session = {"Authorization": f"Bearer {credentials.session}"}
    log_in = {"query": LOG_IN, "variables": {"input": {"email": credentials.email, "password": PASSWORD}}}
    unknown = generate(TokenKind.API_KEY).value
    return [
        (
            "graphql with a management token",
            httpx.Request("POST", f"{base}/graphql", json={"query": PROJECTS}, headers=bearer),
        ),
        ("graphql logIn, anonymous", httpx.Request("POST", f"{base}/graphql", json=log_in)),
        (
            "graphql logIn, graphql-response+json",
            httpx.Request(
                "POST", f"{base}/graphql", json=log_in, headers={"Accept": "application/graphql-response+json"}
            ),
        ),
        (
            "graphql with a management token, graphql-response+json",
            httpx.Request(
                "POST",
                f"{base}/graphql",
                json={"query": PROJECTS},
                headers={**bearer, "Accept": "application/graphql-response+json"},
            ),
        ),
        (
            "graphql GET with a session",
            httpx.Request("GET", f"{base}/graphql", params={"query": PROJECTS}, headers=session),
        ),
        ("verify", httpx.Request("POST", f"{base}/v1/keys/verify", json={"key": credentials.api_key})),
        (
            "leaks",
            httpx.Request("POST", f"{base}/v1/leaks", json=[{"token": unknown, "type": "kw", "url": "https://x"}]),
        ),
    ]


def assert_unavailable(name: str, response: httpx.Response) -> None:
    assert response.status_code == 503, (name, response.status_code, response.text[:300])
    assert response.headers["retry-after"].isdigit(), name
    assert response.headers.get("connection", "").lower() != "close", name
    body = response.json()
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAVAILABLE"], (name, body)
    if response.request.headers.get("accept") == "application/graphql-response+json":
        assert "data" not in body and response.headers["content-type"].startswith("application/graphql-response+json")
    else:
        assert body["data"] is None and response.headers["content-type"] == "application/json", name


async def send(http: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    # The client's own base URL and connection, the request's method, path, body and headers.
    return await http.request(
        request.method, request.url.raw_path.decode(), content=request.content, headers=dict(request.headers)
    )


async def timed(http: httpx.AsyncClient, request: httpx.Request) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await send(http, request)
    return response, time.monotonic() - started


async def wait_until_ready(http: httpx.AsyncClient, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if (await http.get("/readyz")).status_code == 200:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"/readyz did not come back within {within} s")


async def assert_serves(http: httpx.AsyncClient, credentials: Credentials) -> None:
    verified = await http.post("/v1/keys/verify", json={"key": credentials.api_key})
    assert verified.status_code == 200 and verified.json()["valid"] is True, verified.text
    projects = await http.post(
        "/graphql", json={"query": PROJECTS}, headers={"Authorization": f"Bearer {credentials.management_token}"}
    )
    assert projects.status_code == 200 and "errors" not in projects.json(), projects.text


def first_traceback(log: str) -> str:
    at = log.find("Traceback")
    return log[max(0, at - 300) : at + 8000]


def state_changes(log: str) -> list[str]:
    return [line for line in log.splitlines() if WENT_AWAY in line or CAME_BACK in line]


async def test_a_stopped_database_is_a_json_503_everywhere_logged_once_and_recovered_from(
    cluster: ThrowawayPostgres,
) -> None:
    # (webhook deliveries every second: the API process's own loop meets the outage too)
    with serve(cluster.url, log_level="info", **{**SETTINGS, "webhook_delivery_seconds": "1"}) as server:
        async with keep_alive_client(server) as http:
            credentials = await given_credentials(http)
            requests = every_endpoint(credentials)
            # when PostgreSQL stops
            cluster.stop()
            # then every endpoint, asked again and again on one kept-alive connection, answers a JSON 503
            for _ in range(5):
                for name, request in requests:
                    assert_unavailable(name, await send(http, request))
                readyz, elapsed = await timed(http, httpx.Request("GET", "http://keyward.test/readyz"))
                assert readyz.status_code == 503 and readyz.json()["database"] == "unavailable", readyz.text
                assert elapsed < READYZ_WITHIN_SECONDS, elapsed
            # when it starts again, the same process serves again by itself
            cluster.start()
            await wait_until_ready(http)
            await assert_serves(http, credentials)
        log = server.log()
    # and the log said so once each way, with no traceback
    assert "Traceback" not in log and "Exception in ASGI application" not in log, first_traceback(log)
    changes = state_changes(log)
    assert len(changes) == 2 and WENT_AWAY in changes[0] and CAME_BACK in changes[1], changes


async def test_a_frozen_database_is_answered_within_the_timeouts_and_recovered_from(
    cluster: ThrowawayPostgres,
) -> None:
    with serve(cluster.url, log_level="info", **SETTINGS) as server:
        async with keep_alive_client(server) as http:
            credentials = await given_credentials(http)
            # when PostgreSQL freezes (SIGSTOP: connections stay open, nothing answers)
            cluster.freeze()
            try:
                # then /readyz says so within a second, and every request gets a 503 within the timeouts
                for name, request in every_endpoint(credentials):
                    readyz, elapsed = await timed(http, httpx.Request("GET", "http://keyward.test/readyz"))
                    assert readyz.status_code == 503, readyz.text
                    assert elapsed < READYZ_WITHIN_SECONDS, elapsed
                    response, elapsed = await timed(http, request)
                    assert_unavailable(name, response)
                    assert elapsed < FROZEN_ANSWER_WITHIN_SECONDS, (name, elapsed)
            finally:
                # when it resumes
                cluster.thaw()
            await wait_until_ready(http)
            await assert_serves(http, credentials)
        log = server.log()
    assert "Traceback" not in log and "Exception in ASGI application" not in log, first_traceback(log)
    changes = state_changes(log)
    assert len(changes) == 2 and WENT_AWAY in changes[0] and CAME_BACK in changes[1], changes


async def test_requests_in_flight_when_the_database_stops_get_503_and_no_connection_fails(
    cluster: ThrowawayPostgres,
) -> None:
    """Concurrent load across the moment the database stops: every answer is a 200 or a JSON 503,
    none fails at the transport level (the issue counted 4,694 such failures)."""
    with serve(cluster.url, log_level="info", **SETTINGS) as server:
        async with keep_alive_client(server) as setup:
            credentials = await given_credentials(setup)
        limits = httpx.Limits(max_connections=8, max_keepalive_connections=8, keepalive_expiry=30)
        statuses: list[int] = []
        stop = asyncio.Event()

        async def load(http: httpx.AsyncClient) -> None:
            while not stop.is_set():
                response = await http.post("/v1/keys/verify", json={"key": credentials.api_key})
                if response.status_code == 503:
                    assert_unavailable("verify under load", response)
                statuses.append(response.status_code)

        async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as http:
            workers = [asyncio.create_task(load(http)) for _ in range(8)]
            await asyncio.sleep(0.5)
            await asyncio.to_thread(cluster.stop)
            await asyncio.sleep(1.0)
            stop.set()
            await asyncio.gather(*workers)  # a transport error would be raised here
        log = server.log()
    assert "Traceback" not in log, first_traceback(log)
    assert set(statuses) == {200, 503}, set(statuses)
    assert len(re.findall(re.escape(WENT_AWAY), log)) == 1, state_changes(log)


async def test_a_sqlite_file_locked_past_the_busy_timeout_is_a_503_and_then_serves(tmp_path: Path) -> None:
    """SQLite's "outage": another process holds the write lock longer than the busy timeout
    (KEYWARD_DATABASE_ACQUIRE_TIMEOUT_SECONDS)."""
    path = tmp_path / "keyward.sqlite3"
    with serve(f"sqlite://{path}", log_level="info", **SETTINGS) as server:
        async with keep_alive_client(server) as http:
            await given_credentials(http)
            # when another process takes the write lock and keeps it
            holder = sqlite3.connect(path, isolation_level=None)
            try:
                holder.execute("BEGIN IMMEDIATE")
                sign_up = {"query": SIGN_UP, "variables": {"input": new_account()}}
                response, elapsed = await timed(
                    http, httpx.Request("POST", "http://keyward.test/graphql", json=sign_up)
                )
                # then a write is a 503 once the busy timeout (1 s) has passed, not a 500 or a hang
                assert_unavailable("signUp while locked", response)
                assert elapsed < FROZEN_ANSWER_WITHIN_SECONDS, elapsed
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            # and once the lock is released, the same write succeeds
            response = await http.post("/graphql", json={"query": SIGN_UP, "variables": {"input": new_account()}})
            assert response.status_code == 200 and "errors" not in response.json(), response.text
        log = server.log()
    assert "Traceback" not in log, first_traceback(log)


async def test_an_operation_that_partly_resolved_keeps_its_data_with_unavailable_errors(
    cluster: ThrowawayPostgres,
) -> None:
    """The partial-result rule: fields that resolved are kept (a 200, as GraphQL over HTTP requires
    with data), a nullable field the database failed is null with UNAVAILABLE at its path, and
    Retry-After is set. Here another session holds an exclusive lock on the project table, so the
    `node` lookup of a project runs into the statement timeout while `viewer` needs no query."""
    with serve(cluster.url, log_level="info", **SETTINGS) as server:
        async with keep_alive_client(server) as http:
            credentials = await given_credentials(http)
            project = await Api(http).create_project(credentials.management_token, "Locked")
            document = "query($id: ID!) { viewer { kind } node(id: $id) { id } }"
            holder = await asyncpg.connect(cluster.url)
            try:
                async with holder.transaction():
                    await holder.execute("LOCK TABLE project IN ACCESS EXCLUSIVE MODE")
                    response = await http.post(
                        "/graphql",
                        json={"query": document, "variables": {"id": project}},
                        headers={"Authorization": f"Bearer {credentials.management_token}"},
                    )
            finally:
                await holder.close()
    assert response.status_code == 200, response.text
    assert response.headers["retry-after"].isdigit()
    body = response.json()
    assert body["data"] == {"viewer": {"kind": "MANAGEMENT_TOKEN"}, "node": None}, body
    assert [(error["path"], error["extensions"]["code"]) for error in body["errors"]] == [(["node"], "UNAVAILABLE")]
