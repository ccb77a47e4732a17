"""uvicorn's access log never carries a query string: a real `keyward serve` at log level info.

A secret sent in a URL by mistake (a log-in mutation over GET, a token as a parameter) is
refused or ignored by the service, but the access log writes the request line before anyone
looks at it. The line keeps the method, the path and the status, so operators still see the
request, and says only that a query string was there.
"""

import time
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest

from app.http.access_log import REDACTED
from tests.support.serve_processes import Server, serve

PASSWORD = "correct-horse-battery-staple-0417"  # noqa: S105 (a test value)
TOKEN = "kwm_notarealtokenbutshapedlikeonex1y2z3"  # noqa: S105 (a test value)


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[Server]:
    with serve(database_url, log_level="info") as running:
        yield running


def _wait_for(server: Server, text: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = server.log()
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never reached the log:\n{server.log()}")


def test_the_access_log_keeps_the_request_line_without_the_query_string(server: Server) -> None:
    log_in = f'mutation {{ logIn(input: {{email: "ops@example.com", password: "{PASSWORD}"}}) {{ __typename }} }}'
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        refused = client.get("/graphql?" + urlencode({"query": log_in}))
        read = client.get("/graphql?" + urlencode({"query": "{ viewer { kind } }"}))
        probe = client.get("/healthz?" + urlencode({"token": TOKEN}))
    assert refused.status_code >= 400  # mutations are never run over GET
    assert read.status_code == 200
    assert probe.status_code == 200

    log = _wait_for(server, '"GET /healthz')  # the last request: the lines before it are written too
    assert f'"GET /graphql{REDACTED} HTTP/1.1" {refused.status_code}' in log
    assert f'"GET /graphql{REDACTED} HTTP/1.1" 200' in log
    assert f'"GET /healthz{REDACTED} HTTP/1.1" 200' in log
    for secret in (PASSWORD, TOKEN, "logIn", "viewer"):
        assert secret not in log


def test_at_trace_level_no_line_carries_what_a_url_did(database_url: str) -> None:
    log_in = f'mutation {{ logIn(input: {{email: "ops@example.com", password: "{PASSWORD}"}}) {{ __typename }} }}'
    with serve(database_url, log_level="trace") as server:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            refused = client.get("/graphql?" + urlencode({"query": log_in}))
            probe = client.get("/healthz?" + urlencode({"token": TOKEN}))
        assert refused.status_code == 405 and probe.status_code == 200
        # then: the whole output of the process, trace lines included
        log = _wait_for(server, '"GET /healthz')
    assert "ASGI [" in log and "Started scope=" in log  # uvicorn's trace lines were written
    assert "'query_string': b'[redacted]'" in log
    for secret in (PASSWORD, TOKEN, "logIn", "password", "token="):
        assert secret not in log, secret
