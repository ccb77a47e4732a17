"""Row 2 of the data plane: verify with 2 uvicorn workers against 1, both with Redis.

Subject: the real app with `--workers 2`; baseline: the same with `--workers 1`; both on
PostgreSQL with Redis and `keyward worker`, 50 valid keys in turn, 16 connections, 1 wrk thread.
Each worker process has its own cache and reads the same revocation epoch. wrk, uvicorn and Redis
share the machine's 2 cores, so the second worker has less than a core of its own.
Target: ≥ 1.4 × the throughput of one worker.

Measured beside it, in the same alternating runs: the bare Starlette route (`bench/bare_verify.py`)
with 2 workers against 1, the same ratio for an app that does nothing but parse the JSON. It says
how far a second worker can scale at all on this machine with this load (uvicorn hands connections
to its workers unevenly, and wrk, Redis and both workers share the cores); reported, not judged.
"""

from bench import load, server
from bench.benchmarks.verify import THREADS, expect_valid, seeded_keys
from bench.context import Bench
from bench.load import LoadResult
from bench.report import Result, Target

NAME = "verify_workers"
TITLE = "verify with 2 uvicorn workers vs 1 worker, both with Redis"


def _scaling(ratio: float | None, two: LoadResult, one: LoadResult) -> str:
    return f"{ratio:.2f} × ({two.rps:,.0f} / {one.rps:,.0f} req/s)" if ratio else "not measured"


async def run(bench: Bench) -> Result:
    p = bench.profile
    keys = await seeded_keys(bench)
    with (
        server.serve(server.REAL_APP, bench.database_url, bench.redis_url, workers=2) as two,
        server.serve(server.REAL_APP, bench.database_url, bench.redis_url) as one,
        server.serve(server.BARE_VERIFY_APP, bench.database_url, workers=2) as bare_two,
        server.serve(server.BARE_VERIFY_APP, bench.database_url) as bare_one,
        server.worker(bench.database_url, bench.redis_url),
    ):
        expect_valid(two.url, keys[0], "2 workers")
        expect_valid(one.url, keys[0], "1 worker")
        expect_valid(bare_two.url, keys[0], "bare route, 2 workers")
        expect_valid(bare_one.url, keys[0], "bare route, 1 worker")
        bench.say(f"{NAME}: wrk {p.warmup_seconds:g} s warm-up, then {p.rounds} × {p.measure_seconds:g} s each")
        results = await load.compare(
            [
                ("1 worker", f"{one.url}{load.VERIFY_PATH}", keys, 200),
                ("2 workers", f"{two.url}{load.VERIFY_PATH}", keys, 200),
                ("bare route, 1 worker", f"{bare_one.url}{load.VERIFY_PATH}", keys, 200),
                ("bare route, 2 workers", f"{bare_two.url}{load.VERIFY_PATH}", keys, 200),
            ],
            warmup=p.warmup_seconds,
            seconds=p.measure_seconds,
            rounds=p.rounds,
            threads=THREADS,
        )
    subject, baseline = results["2 workers"], results["1 worker"]
    bare_two_result, bare_one_result = results["bare route, 2 workers"], results["bare route, 1 worker"]
    bare_scaling = bare_two_result.rps / bare_one_result.rps if bare_one_result.rps else None
    return Result(
        name=NAME,
        title=TITLE,
        unit="req/s",
        value=subject.rps,
        baseline=baseline.rps,
        target=Target("ratio", ">=", 1.4),
        notes=[
            f"p99 {subject.p99_ms:.1f} ms (1 worker {baseline.p99_ms:.1f} ms)",
            f"the bare route, 2 workers over 1: {_scaling(bare_scaling, bare_two_result, bare_one_result)}",
        ],
        details={
            "subject": {"app": server.REAL_APP, "workers": 2, **subject.as_dict()},
            "baseline": {"app": server.REAL_APP, "workers": 1, **baseline.as_dict()},
            "connections": load.CONNECTIONS,
            "threads": THREADS,
            "bare_route_2_workers": {"app": server.BARE_VERIFY_APP, "workers": 2, **bare_two_result.as_dict()},
            "bare_route_1_worker": {"app": server.BARE_VERIFY_APP, "workers": 1, **bare_one_result.as_dict()},
            "bare_route_scaling": bare_scaling,
        },
    )
