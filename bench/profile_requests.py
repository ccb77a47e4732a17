"""Where a request of a benchmark row spends its CPU, in one process, without HTTP.

    .venv/bin/python -m bench.profile_requests [--path projects|verify] [--requests 3000] [--top 25]

`projects`: the authenticated `projects(first: 20)` query with the 50 management tokens;
`verify`: `POST /v1/keys/verify` with 50 valid API keys.

Starts the harness's throwaway PostgreSQL and Redis (as `python -m bench` does), seeds the request
workspace, runs the real app in this process on uvloop (its lifespan, Redis usage buffer included)
and calls it as ASGI, 16 requests in flight. First it prints the CPU time per request
(`time.process_time`) of the app and of the row's baseline (`bench/bare_app.py`,
`bench/bare_verify.py`) called the same way; then it profiles the app under cProfile and prints the
top frames by inclusive (cumulative) time as a share of the profiled run. uvicorn's HTTP work is in
neither: the figures are of what the applications themselves spend, and the caller's own share is
small (no HTTP client).
"""

import argparse
import asyncio
import cProfile
import os
import pstats
import time
from collections.abc import Callable
from typing import Any

import orjson
import uvloop

from bench import database, log, seed
from bench.load import graphql_body
from bench.services import services

CONCURRENCY = 16
ROUNDS = 3
Request = tuple[str, bytes, list[tuple[bytes, bytes]]]


def _graphql_request(token: str) -> Request:
    headers = [(b"content-type", b"application/json"), (b"authorization", f"Bearer {token}".encode())]
    return "/graphql", GRAPHQL_BODY, headers


def _verify_request(key: str) -> Request:
    return "/v1/keys/verify", orjson.dumps({"key": key}), [(b"content-type", b"application/json")]


GRAPHQL_BODY = graphql_body().encode()
REQUESTS: dict[str, Callable[[str], Request]] = {"projects": _graphql_request, "verify": _verify_request}
BASELINES = {"projects": "bench.bare_app", "verify": "bench.bare_verify"}


async def _call(app: Any, request: Request) -> None:
    """One request through the app's ASGI interface; raises unless it was answered 200 without an error."""
    path, body, headers = request
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [*headers, (b"content-length", str(len(body)).encode()), (b"host", b"keyward.test")],
        "client": ("192.0.2.10", 40000),
        "server": ("keyward.test", 80),
    }
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:
            await asyncio.Event().wait()  # the client never disconnects
        received = True
        return {"type": "http.request", "body": body, "more_body": False}

    status: list[int] = []
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        else:
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    answer = b"".join(chunks)
    if status != [200] or b'"errors"' in answer or b'"valid":false' in answer:
        raise RuntimeError(f"unexpected answer: {status} {answer[:300]!r}")


async def _requests(app: Any, path: str, secrets: list[str], count: int) -> None:
    make = REQUESTS[path]
    issued = 0

    async def one_connection() -> None:
        nonlocal issued
        while issued < count:
            secret = secrets[issued % len(secrets)]
            issued += 1
            await _call(app, make(secret))

    await asyncio.gather(*(one_connection() for _ in range(CONCURRENCY)))


async def _cpu_per_request(app: Any, path: str, secrets: list[str], count: int) -> float:
    """The least CPU time per request over a few rounds, in µs (the least: the others were disturbed)."""
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        await _requests(app, path, secrets, count)
        best = min(best, (time.process_time() - started) / count * 1e6)
    return best


async def _profile(database_url: str, redis_url: str, path: str, count: int, top: int) -> None:
    conn = await database.connect(database_url)
    try:
        await database.empty_tables(conn)
        workspace = await seed.request_workspace(conn)
        secrets = workspace.secrets
        if path == "verify":
            secrets = (await seed.api_keys(conn, workspace.workspace_id, len(secrets))).secrets
    finally:
        await conn.close()
    # cProfile slows every call: the request path must not give up on Redis because of it.
    os.environ |= database.service_env(database_url, redis_url, usage_redis_timeout_seconds="5")
    from importlib import import_module

    from app.main import create_app
    from app.settings import get_settings

    get_settings.cache_clear()
    baseline = import_module(BASELINES[path]).create_app()
    async with baseline.router.lifespan_context(baseline):
        await _requests(baseline, path, secrets, max(count // 5, 200))
        baseline_cpu = await _cpu_per_request(baseline, path, secrets, count)
    app = create_app()
    async with app.router.lifespan_context(app):
        await _requests(app, path, secrets, max(count // 5, 200))
        app_cpu = await _cpu_per_request(app, path, secrets, count)
        profiler = cProfile.Profile()
        profiler.enable()
        await _requests(app, path, secrets, count)
        profiler.disable()
    print(
        f"CPU per request, least of {ROUNDS} rounds of {count}: Keyward {app_cpu:.1f} µs, "
        f"baseline ({BASELINES[path]}) {baseline_cpu:.1f} µs, ratio {baseline_cpu / app_cpu:.3f}"
    )
    stats = pstats.Stats(profiler)
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: item[1][3], reverse=True)  # type: ignore[attr-defined]
    print(f"{count} requests, {total:.2f} s profiled CPU; top frames by inclusive time:")
    for (file, line, name), (_, calls, _, cumulative, _) in rows[:top]:
        where = file.split("site-packages/")[-1].split("/work/")[-1]
        print(f"{100 * cumulative / total:6.1f} %  {calls:>8}  {name}  ({where}:{line})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", choices=sorted(REQUESTS), default="projects")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with services(None, None) as svc:
        log.say(svc.description)
        database.migrate(svc.database_url)
        uvloop.run(_profile(svc.database_url, svc.redis_url, args.path, args.requests, args.top))


if __name__ == "__main__":
    main()
