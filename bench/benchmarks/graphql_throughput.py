"""Row 1: the authenticated projects query against a bare strawberry schema serving static data.

Subject: the real app (`app.main:create_app`) on PostgreSQL with Redis and `keyward worker`
beside it (the production shape), `projects(first: 20) { edges { node { id name } } }` with the 50
management tokens in turn. Baseline: `bench.bare_app` (same-shaped query, static data, ParserCache
and ValidationCache), same uvicorn flags, same wrk script and headers. 16 connections, 2 threads.
Target: throughput at least 0.6 of the baseline (stretch 0.7); p99 latencies reported.
"""

from bench import load, server
from bench.benchmarks._shared import expect_projects, request_workspace
from bench.context import Bench
from bench.report import Result, Target

NAME = "graphql_throughput"
TITLE = "authenticated projects(first: 20), management token, PostgreSQL, 16 connections"


async def run(bench: Bench) -> Result:
    p = bench.profile
    workspace = await request_workspace(bench)
    with (
        server.serve(server.REAL_APP, bench.database_url, bench.redis_url) as real,
        server.worker(bench.database_url, bench.redis_url),
        server.serve(server.BARE_APP, bench.database_url) as bare,
    ):
        expect_projects(real.url, workspace.secrets[0], "keyward")
        expect_projects(bare.url, workspace.secrets[0], "bare strawberry")
        bench.say(f"{NAME}: wrk {p.warmup_seconds:g} s warm-up, then {p.rounds} × {p.measure_seconds:g} s each")
        results = await load.compare(
            [
                ("bare", f"{bare.url}/graphql", workspace.secrets, 200),
                ("keyward", f"{real.url}/graphql", workspace.secrets, 200),
            ],
            warmup=p.warmup_seconds,
            seconds=p.measure_seconds,
            rounds=p.rounds,
        )
    keyward, bare_result = results["keyward"], results["bare"]
    return Result(
        name=NAME,
        title=TITLE,
        unit="req/s",
        value=keyward.rps,
        baseline=bare_result.rps,
        target=Target("ratio", ">=", 0.6),
        notes=[f"p99 {keyward.p99_ms:.1f} ms (bare {bare_result.p99_ms:.1f} ms)"],
        details={
            "subject": {"app": server.REAL_APP, "with": "Redis usage buffer, keyward worker", **keyward.as_dict()},
            "baseline": {"app": server.BARE_APP, **bare_result.as_dict()},
            "connections": load.CONNECTIONS,
            "threads": load.THREADS,
            "query": load.PROJECTS_QUERY,
        },
    )
