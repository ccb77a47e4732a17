"""Rows 1 and 3 of the data plane: `POST /v1/keys/verify` with valid keys, throughput and p99.

Subject: the real app (one uvicorn worker) on PostgreSQL with Redis and `keyward worker` beside
it, 50 valid API keys in turn; verified credentials are answered from the process's cache after
one Redis round trip (which records the use and reads the revocation epoch). Baseline: a bare
Starlette route that parses the same JSON and answers a fixed body (`bench/bare_verify.py`), same
uvicorn flags, same wrk script. 16 connections, 1 wrk thread (wrk, uvicorn and Redis share the 2
cores). While the subject runs, pg_stat_statements counts the statements the database gets.
Targets: throughput ≥ 0.6 of the bare route's; p99 ≤ 3 × the bare route's p99.
"""

import asyncio
import json
import urllib.request

from bench import load, seed, server
from bench.benchmarks._shared import request_workspace
from bench.context import Bench
from bench.database import connect
from bench.load import LoadResult
from bench.pgstats import StatementCounter
from bench.report import Check, Result, Target

NAME = "verify"
TITLE = "POST /v1/keys/verify, valid key, 1 process with Redis"
P99_TITLE = "verify p99 latency at 16 connections"
KEYS = 50
THREADS = 1
SETTLE_SECONDS = 0.5


def expect_valid(base_url: str, key: str, what: str) -> None:
    request = urllib.request.Request(  # noqa: S310
        f"{base_url}{load.VERIFY_PATH}",
        data=json.dumps({"key": key}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        body = json.loads(answer.read())
    if answer.status != 200 or body.get("valid") is not True:
        raise RuntimeError(f"{what}: the key was not verified: HTTP {answer.status} {body}")


async def seeded_keys(bench: Bench) -> list[str]:
    workspace = await request_workspace(bench)
    conn = await connect(bench.database_url)
    try:
        return (await seed.api_keys(conn, workspace.workspace_id, KEYS)).secrets
    finally:
        await conn.close()


async def run(bench: Bench) -> list[Result]:
    p = bench.profile
    keys = await seeded_keys(bench)
    counter = await StatementCounter.open(bench.database_url)
    statements: list[int | None] = []

    async def before(label: str, _: LoadResult | None) -> None:
        await asyncio.sleep(SETTLE_SECONDS)
        await counter.reset()

    async def after(label: str, _: LoadResult | None) -> None:
        if label == "keyward":
            await asyncio.sleep(SETTLE_SECONDS)
            statements.append(await counter.all_statements())

    try:
        with (
            server.serve(server.REAL_APP, bench.database_url, bench.redis_url) as real,
            server.worker(bench.database_url, bench.redis_url),
            server.serve(server.BARE_VERIFY_APP, bench.database_url) as bare,
        ):
            expect_valid(real.url, keys[0], "keyward")
            expect_valid(bare.url, keys[0], "bare route")
            bench.say(f"{NAME}: wrk {p.warmup_seconds:g} s warm-up, then {p.rounds} × {p.measure_seconds:g} s each")
            results = await load.compare(
                [
                    ("bare", f"{bare.url}{load.VERIFY_PATH}", keys, 200),
                    ("keyward", f"{real.url}{load.VERIFY_PATH}", keys, 200),
                ],
                warmup=p.warmup_seconds,
                seconds=p.measure_seconds,
                rounds=p.rounds,
                before=before,
                after=after,
                threads=THREADS,
            )
    finally:
        await counter.close()
    keyward, bare_result = results["keyward"], results["bare"]
    counted = None if not statements or None in statements else sum(s for s in statements if s is not None)
    per_request = None if counted is None or not keyward.requests else counted / keyward.requests
    details = {
        "subject": {"app": server.REAL_APP, "with": "Redis usage buffer, keyward worker", **keyward.as_dict()},
        "baseline": {"app": server.BARE_VERIFY_APP, **bare_result.as_dict()},
        "connections": load.CONNECTIONS,
        "threads": THREADS,
        "keys": KEYS,
        "database_statements_during_subject_runs": counted,
    }
    throughput = Result(
        name=NAME,
        title=TITLE,
        unit="req/s",
        value=keyward.rps,
        baseline=bare_result.rps,
        target=Target("ratio", ">=", 0.6),
        checks=[Check("database statements per verify", per_request, "<=", 0.01, "", counter.reason)],
        notes=[f"p99 {keyward.p99_ms:.1f} ms (bare {bare_result.p99_ms:.1f} ms)"],
        details=details,
    )
    p99 = Result(
        name=f"{NAME}_p99",
        title=P99_TITLE,
        unit="ms",
        value=keyward.p99_ms,
        baseline=bare_result.p99_ms,
        target=Target("ratio", "<=", 3),
        notes=[f"p50 {keyward.p50_ms:.2f} ms (bare {bare_result.p50_ms:.2f} ms)", "the verify row's runs"],
        details={"subject_p99_ms": keyward.p99_ms, "baseline_p99_ms": bare_result.p99_ms},
    )
    return [throughput, p99]
