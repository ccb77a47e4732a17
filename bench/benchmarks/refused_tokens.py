"""Row 5: requests with garbage, bad-checksum and unknown tokens, against valid-token requests.

Subject: the real app with Redis, the same projects query, with three kinds of bad credential:
garbage (no Keyward shape), a `kwm_` token whose checksum is wrong (the 50 real secrets with one
character changed), and well-formed tokens that were never issued (a hash lookup that finds
nothing). Baseline: the same query with the 50 valid tokens. wrk, alternating. While the garbage
and bad-checksum runs go, pg_stat_statements counts every statement the service sends.
Targets: each kind is refused at least 3 times faster than a valid request is served (the value
is the slowest kind), and the first two kinds send zero database queries.
"""

import asyncio

from app.security import tokens
from app.security.tokens import TokenKind
from bench import load, server
from bench.benchmarks._shared import expect_projects, expect_refused, request_workspace
from bench.context import Bench
from bench.load import LoadResult
from bench.pgstats import StatementCounter
from bench.report import Check, Result, Target

NAME = "refused_tokens"
TITLE = "requests with garbage, bad-checksum and unknown tokens vs valid tokens"

QUERIES_COUNTED = ("garbage", "bad checksum")
SETTLE_SECONDS = 0.5


def _bad_checksum(secret: str) -> str:
    last = secret[-1]
    return secret[:-1] + ("A" if last != "A" else "B")


def kinds_of(secrets: list[str]) -> dict[str, list[str]]:
    return {
        "garbage": [f"not-a-keyward-token-{i}" for i in range(len(secrets))],
        "bad checksum": [_bad_checksum(s) for s in secrets],
        "unknown": [tokens.generate(TokenKind.MANAGEMENT).value for _ in secrets],
    }


async def run(bench: Bench) -> Result:
    p = bench.profile
    workspace = await request_workspace(bench)
    kinds = kinds_of(workspace.secrets)
    counter = await StatementCounter.open(bench.database_url)
    queries: dict[str, list[int | None]] = {kind: [] for kind in QUERIES_COUNTED}

    seen: dict[str, list[dict[str, object]]] = {}

    async def before(label: str, _: LoadResult | None) -> None:
        # wrk stops with requests still in flight; let the server finish them, so the queries of the
        # previous subject's last requests are not counted against this one.
        await asyncio.sleep(SETTLE_SECONDS)
        await counter.reset()

    async def after(label: str, _: LoadResult | None) -> None:
        if label in queries:
            await asyncio.sleep(SETTLE_SECONDS)
            queries[label].append(await counter.all_statements())
            seen[label] = await counter.top()

    try:
        with server.serve(server.REAL_APP, bench.database_url, bench.redis_url) as real:
            expect_projects(real.url, workspace.secrets[0], "valid token")
            for kind, values in kinds.items():
                expect_refused(real.url, values[0], kind)
            url = f"{real.url}/graphql"
            bench.say(f"{NAME}: wrk {p.warmup_seconds:g} s warm-up, then {p.rounds} × {p.measure_seconds:g} s each")
            results = await load.compare(
                [("valid", url, workspace.secrets, 200)] + [(kind, url, values, 401) for kind, values in kinds.items()],
                warmup=p.warmup_seconds,
                seconds=p.measure_seconds,
                rounds=p.rounds,
                before=before,
                after=after,
            )
    finally:
        await counter.close()

    valid = results["valid"]
    slowest = min(kinds, key=lambda kind: results[kind].rps)

    def total(kind: str) -> int | None:
        counts = queries[kind]
        return None if not counts or any(c is None for c in counts) else sum(c for c in counts if c is not None)

    return Result(
        name=NAME,
        title=TITLE,
        unit="req/s",
        value=results[slowest].rps,
        baseline=valid.rps,
        target=Target("ratio", ">=", 3),
        checks=[
            Check(f"database queries, {kind} tokens", total(kind), "==", 0, "", counter.reason)
            for kind in QUERIES_COUNTED
        ],
        notes=[f"{kind} {results[kind].rps:,.0f} req/s ({results[kind].rps / valid.rps:.1f}×)" for kind in kinds]
        + [f"value is the slowest kind ({slowest})"],
        details={
            "valid": valid.as_dict(),
            **{kind: results[kind].as_dict() for kind in kinds},
            "queries_during": {kind: queries[kind] for kind in QUERIES_COUNTED},
            "statements_seen": seen,
        },
    )
