"""The envelope around every answer (`app.http.envelope`), called as ASGI with requests no client library sends."""

from typing import Any

from starlette.applications import Starlette

from app.settings import Settings

LIMITS = Settings()


async def test_a_small_declared_length_beside_chunks_does_not_lift_the_bound(app: Starlette) -> None:
    # given a request that declares a small Content-Length and sends its body in chunks that add up
    # to more than the bound (a server that let both through would hand the app every chunk)
    chunk = b"x" * 16384
    chunks = (LIMITS.max_body_bytes // len(chunk)) + 2
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", b"10"),
            (b"transfer-encoding", b"chunked"),
        ],
        "client": ("192.0.2.1", 40000),
        "server": ("keyward.test", 80),
    }
    sent = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        sent += 1
        return {"type": "http.request", "body": chunk, "more_body": sent < chunks}

    answer: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        answer.append(message)

    # when the app reads it
    await app(scope, receive, send)
    # then it is refused with 413 before the whole body was read
    assert answer[0]["status"] == 413 and sent < chunks
