"""Row 3: the flush of 100,000 distinct buffered tokens into PostgreSQL, against one hand-written UPDATE.

Subject: the app's real code path as the worker runs it: `RedisUsageBuffer` (filled with one use
of each of 100,000 seeded tokens) and `app.usage.flush.flush`, which takes the buffer from Redis and
writes it with its set-based UPDATEs in batches. Baseline: one asyncpg
`UPDATE management_token SET last_used_at = v.t FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, t)
WHERE management_token.id = v.id` over the same ids with newer times. Both change every row; the
table is VACUUMed before each timed run and the two alternate (median of `flush_repeats` each).
Target: the flush writes at least 0.7 of the baseline's rows per second.

Also measured (from the former bench/usage_bench.py): the request path's cost of recording a
use, `record()` on the API's Redis client settings, one at a time (p50/p99).
"""

import statistics
import time
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from tortoise import Tortoise

from app import db
from app.settings import Settings
from app.usage.flush import BATCH_SIZE, flush
from app.usage.model import UsageKind, Use
from app.usage.redis_buffer import RedisUsageBuffer
from app.usage.runtime import connect_redis
from bench import database, seed
from bench.context import Bench
from bench.pgstats import StatementCounter
from bench.report import Result, Target

NAME = "flush"
TITLE = "flush of distinct buffered tokens into PostgreSQL"

BASELINE_SQL = (
    "UPDATE management_token SET last_used_at = v.t "
    "FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, t) WHERE management_token.id = v.id"
)


async def _record_latency(redis_url: str, ids: list[int], samples: int) -> dict[str, float]:
    """What one request waits for: a sequential record() with the API's client (bounded pool, short timeout)."""
    timeout = Settings.model_fields["usage_redis_timeout_seconds"].default  # the shipped default, 0.1 s
    redis = connect_redis(redis_url, timeout=timeout)
    buffer = RedisUsageBuffer(redis, timeout=timeout)
    at = datetime.now(UTC)
    latencies = []
    try:
        for i in range(samples):
            use = Use(UsageKind.MANAGEMENT_TOKEN, ids[i % len(ids)], at + timedelta(microseconds=i), seed.BENCH_IP)
            started = time.perf_counter()
            await buffer.record(use)
            latencies.append(time.perf_counter() - started)
        await redis.flushdb()
    finally:
        await redis.aclose()
    latencies.sort()
    return {
        "samples": samples,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "kept_in_process": len(buffer.fallback),
    }


async def run(bench: Bench) -> Result:
    p = bench.profile
    count = p.flush_tokens
    conn = await database.connect(bench.database_url)
    await database.empty_tables(conn)
    bench.say(f"{NAME}: seeding {count:,} tokens")
    await seed.sweep_tokens(conn, count)
    ids = [row["id"] for row in await conn.fetch("SELECT id FROM management_token ORDER BY id")]
    counter = await StatementCounter.open(bench.database_url)
    await Tortoise.init(config=db.tortoise_config(bench.database_url), _enable_global_fallback=True)
    redis = Redis.from_url(bench.redis_url, decode_responses=True)
    buffer = RedisUsageBuffer(redis, timeout=5.0)  # the worker's settings
    app_runs: list[dict[str, float]] = []
    baseline_runs: list[dict[str, float]] = []
    try:
        await redis.flushdb()
        latency = await _record_latency(bench.redis_url, ids, p.record_samples)
        base = datetime.now(UTC) + timedelta(seconds=1)

        # Each timed step writes times newer than every step before it (whichever ran first), so
        # every row changes in every step: the flush keeps the newest time and would skip older ones.
        async def timed_flush(step_number: int) -> None:
            at = base + timedelta(minutes=step_number)
            uses = [
                Use(UsageKind.MANAGEMENT_TOKEN, pk, at + timedelta(microseconds=i), seed.BENCH_IP)
                for i, pk in enumerate(ids)
            ]
            started = time.perf_counter()
            await buffer.record_many(uses)
            recorded = time.perf_counter() - started
            await conn.execute("VACUUM management_token")
            await conn.execute("CHECKPOINT")
            await counter.reset()
            started = time.perf_counter()
            result = await flush(buffer)
            seconds = time.perf_counter() - started
            if result.uses != count or result.rows_changed != count:
                raise RuntimeError(
                    f"the flush wrote {result.uses} uses in {result.batches} batches, "
                    f"changed {result.rows_changed} rows; "
                    f"expected {count}"
                )
            app_runs.append(
                {
                    "seconds": seconds,
                    "rows_per_s": count / seconds,
                    "batches": result.batches,
                    "updates": await counter.token_updates() or 0,
                    "record_many_s": recorded,
                }
            )

        async def timed_baseline(step_number: int) -> None:
            at = base + timedelta(minutes=step_number)
            times = [at + timedelta(microseconds=i) for i in range(len(ids))]
            await conn.execute("VACUUM management_token")
            await conn.execute("CHECKPOINT")
            started = time.perf_counter()
            status = await conn.execute(BASELINE_SQL, ids, times)
            seconds = time.perf_counter() - started
            if status != f"UPDATE {count}":
                raise RuntimeError(f"the baseline UPDATE answered {status!r}, expected UPDATE {count}")
            baseline_runs.append({"seconds": seconds, "rows_per_s": count / seconds})

        for round_number in range(p.flush_repeats):
            bench.say(f"{NAME}: round {round_number + 1} of {p.flush_repeats}")
            steps = [timed_flush, timed_baseline] if round_number % 2 == 0 else [timed_baseline, timed_flush]
            for offset, step in enumerate(steps):
                await step(2 * round_number + offset)
    finally:
        await redis.flushdb()
        await redis.aclose()
        await Tortoise.close_connections()
        await counter.close()
        await conn.close()

    app_rate = statistics.median(r["rows_per_s"] for r in app_runs)
    baseline_rate = statistics.median(r["rows_per_s"] for r in baseline_runs)
    return Result(
        name=NAME,
        title=f"flush of {count:,} distinct buffered tokens into PostgreSQL",
        unit="rows/s",
        value=app_rate,
        baseline=baseline_rate,
        target=Target("ratio", ">=", 0.7),
        notes=[
            f"{app_runs[0]['batches']} batches of ≤ {BATCH_SIZE:,}, {app_runs[0]['updates']} UPDATE statements",
            f"record() p50 {latency['p50_ms']:.2f} ms, p99 {latency['p99_ms']:.2f} ms",
        ],
        details={
            "tokens": count,
            "subject": {"code": "app.usage.flush.flush(RedisUsageBuffer)", "runs": app_runs},
            "baseline": {"sql": BASELINE_SQL, "runs": baseline_runs},
            "record_latency": latency,
        },
    )
