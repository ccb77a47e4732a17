"""Where a request of a benchmark row spends its time, by cProfile, in one process.

    .venv/bin/python -m bench.profile_requests [--path projects|verify] [--requests 3000] [--top 25]

`projects`: the authenticated `projects(first: 20)` query with the 50 management tokens;
`verify`: `POST /v1/keys/verify` with 50 valid API keys.

Starts the harness's throwaway PostgreSQL and Redis (as `python -m bench` does), seeds the request
workspace, runs the real app in this process (its lifespan, Redis usage buffer included) and sends
the benchmark's query through httpx's ASGI transport, 16 at a time, first unprofiled (warm-up),
then under cProfile. Prints the top frames by inclusive (cumulative) time as a share of the
profiled run. uvicorn's HTTP parsing is not in it (the app is called directly): the shares are of
what the app itself spends.
"""

import argparse
import asyncio
import cProfile
import os
import pstats

import httpx
import orjson

from bench import database, log, seed
from bench.load import graphql_body
from bench.services import services


def _graphql_request(token: str) -> tuple[str, bytes, dict[str, str]]:
    return "/graphql", GRAPHQL_BODY, {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}


def _verify_request(key: str) -> tuple[str, bytes, dict[str, str]]:
    return "/v1/keys/verify", orjson.dumps({"key": key}), {"Content-Type": "application/json"}


GRAPHQL_BODY = graphql_body()
REQUESTS = {"projects": _graphql_request, "verify": _verify_request}


async def _requests(app: object, path: str, secrets: list[str], count: int, concurrency: int = 16) -> None:
    transport = httpx.ASGITransport(app=app, client=("192.0.2.10", 40000))  # type: ignore[arg-type]
    make = REQUESTS[path]
    async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as http:
        issued = 0

        async def one_connection() -> None:
            nonlocal issued
            while issued < count:
                token = secrets[issued % len(secrets)]
                issued += 1
                url, body, headers = make(token)
                answer = await http.post(url, content=body, headers=headers)
                body = answer.json() if answer.status_code == 200 else {}
                if answer.status_code != 200 or "errors" in body or body.get("valid") is False:
                    raise RuntimeError(f"unexpected answer: {answer.status_code} {answer.text[:300]}")

        await asyncio.gather(*(one_connection() for _ in range(concurrency)))


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
    from app.main import create_app
    from app.settings import get_settings

    get_settings.cache_clear()
    app = create_app()
    async with app.router.lifespan_context(app):
        await _requests(app, path, secrets, max(count // 5, 200))
        profiler = cProfile.Profile()
        profiler.enable()
        await _requests(app, path, secrets, count)
        profiler.disable()
    stats = pstats.Stats(profiler)
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: item[1][3], reverse=True)  # type: ignore[attr-defined]
    print(f"{count} requests, {total:.2f} s profiled CPU; top frames by inclusive time:")
    for (path, line, name), (_, calls, _, cumulative, _) in rows[:top]:
        where = path.split("site-packages/")[-1].split("/work/")[-1]
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
        asyncio.run(_profile(svc.database_url, svc.redis_url, args.path, args.requests, args.top))


if __name__ == "__main__":
    main()
