"""The head of a request (request line and headers) is bounded: a real `keyward serve` (httptools).

uvicorn's httptools protocol accepted a 20 MB header; `keyward serve` answers 431 past
KEYWARD_MAX_HEADER_BYTES (32 KiB), whether the head never ends or arrives whole in one read,
buffers at most the bound plus one read, and goes on serving.
"""

import socket
from collections.abc import Iterator

import httpx
import pytest

from app.settings import Settings
from tests.support.serve_processes import Server, serve

LIMIT = Settings().max_header_bytes


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[Server]:
    with serve(database_url) as running:
        yield running


def _raw_request(server: Server, head: bytes, *, chunk: int = 64 * 1024) -> bytes:
    """Send `head` in chunks until the server stops taking it; whatever it answered."""
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        try:
            for start in range(0, len(head), chunk):
                connection.sendall(head[start : start + chunk])
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while part := connection.recv(65536):
                answer += part
        except ConnectionResetError:
            pass
        return answer


def _head(header_value_bytes: int, end: bool = True) -> bytes:
    head = b"GET /healthz HTTP/1.1\r\nHost: keyward\r\nX-Padding: " + b"a" * header_value_bytes
    return head + (b"\r\n\r\n" if end else b"")


def test_a_20_mb_header_is_refused_and_the_process_goes_on(server: Server) -> None:
    rss_before = server.rss_kib()
    # when: 20 MB of one header, a head that never ends
    answer = _raw_request(server, _head(20 * 1024 * 1024, end=False))
    # then: refused with 431 (or the connection cut while the client was still sending), nothing buffered
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"HEADERS_TOO_LARGE" in answer or answer == b""
    assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200
    assert server.rss_kib() - rss_before < 10 * 1024
    assert f"Request headers over {LIMIT} bytes refused with 431." in server.log()


def test_a_whole_head_over_the_bound_in_one_read_is_refused_with_431(server: Server) -> None:
    # when: a complete head of twice the bound, sent at once
    answer = _raw_request(server, _head(2 * LIMIT), chunk=4 * LIMIT)
    # then
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b'"code":"HEADERS_TOO_LARGE"' in answer


def test_heads_under_the_bound_are_served_on_one_connection(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        # when: large but allowed headers, twice on one kept-alive connection
        answers = [client.get("/healthz", headers={"X-Padding": "a" * (LIMIT - 1024)}) for _ in range(2)]
    # then
    assert [answer.status_code for answer in answers] == [200, 200]
