"""Last-used batching figures: the request path's cost of recording a use, and the flush's throughput.

    KEYWARD_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kw_wt3 \\
    KEYWARD_BENCH_REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/usage_bench.py

Without KEYWARD_BENCH_DATABASE_URL a temporary SQLite file is used. The database is reset (schema
dropped on PostgreSQL) and the Redis DB flushed: point them at scratch databases only.
"""

import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone

from tortoise import Tortoise
from tortoise.connection import get_connection

from app import db
from app.models import ManagementToken, Workspace
from app.usage.flush import flush
from app.usage.model import UsageKind, Use
from app.usage.redis_buffer import RedisUsageBuffer
from app.usage.runtime import connect_redis

TOKENS = int(os.environ.get("BENCH_TOKENS", "20000"))
USES = int(os.environ.get("BENCH_USES", "200000"))
RECORDS = int(os.environ.get("BENCH_RECORDS", "20000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "200"))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "0.1"))  # KEYWARD_USAGE_REDIS_TIMEOUT_SECONDS


async def _prepare(url: str) -> list[int]:
    if url.startswith("postgres"):
        await Tortoise.init(config=db.tortoise_config(url))
        await get_connection("default").execute_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await Tortoise.close_connections()
    await db.migrate(url)
    await Tortoise.init(config=db.tortoise_config(url), _enable_global_fallback=True)
    workspace = await Workspace.create(name="bench")
    await ManagementToken.bulk_create(
        [
            ManagementToken(
                workspace=workspace, name=f"t{i}", active_name=f"t{i}", key_prefix="kwm_bench", token_hash=f"{i:064d}",
                permissions="VIEW_PROJECTS", created_by_kind="SYSTEM", created_by_label="bench",
            )
            for i in range(TOKENS)
        ],
        batch_size=2000,
    )
    return list(await ManagementToken.all().values_list("id", flat=True))


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("KEYWARD_BENCH_DATABASE_URL") or f"sqlite://{tmp}/bench.sqlite3"
        redis_url = os.environ.get("KEYWARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
        ids = await _prepare(url)
        # The API process's own client and buffer settings (bounded pool, short timeout).
        client = connect_redis(redis_url, timeout=TIMEOUT)
        await client.flushdb()
        buffer = RedisUsageBuffer(client, timeout=TIMEOUT)
        rng = random.Random(1)
        start = datetime.now(timezone.utc)

        # 1. the request path: one record() per request, sequential, as one request sees it
        latencies = []
        for _ in range(RECORDS):
            use = Use(UsageKind.MANAGEMENT_TOKEN, rng.choice(ids), start + timedelta(microseconds=rng.randrange(10**9)), "192.0.2.1")
            t0 = time.perf_counter()
            await buffer.record(use)
            latencies.append(time.perf_counter() - t0)
        latencies.sort()
        print(f"record(): {RECORDS} calls, mean {statistics.mean(latencies) * 1e6:.0f} µs, "
              f"p50 {latencies[len(latencies) // 2] * 1e6:.0f} µs, p99 {latencies[int(len(latencies) * 0.99)] * 1e6:.0f} µs")

        # 2. the flush: USES uses of TOKENS tokens, recorded concurrently, then one flush
        await client.flushdb()
        uses = [
            Use(UsageKind.MANAGEMENT_TOKEN, rng.choice(ids), start + timedelta(microseconds=rng.randrange(10**9)), "192.0.2.1")
            for _ in range(USES)
        ]
        t0 = time.perf_counter()
        for chunk in range(0, len(uses), CONCURRENCY):
            await asyncio.gather(*(buffer.record(u) for u in uses[chunk : chunk + CONCURRENCY]))
        recorded = time.perf_counter() - t0
        fell_back = len(buffer.fallback)
        buffer._down_until = 0.0  # what the background task's next drain does
        await buffer.drain_fallback()
        conn = get_connection("default")
        original = conn.execute_query
        updates = 0

        async def counted(query, values=None):  # type: ignore[no-untyped-def]
            nonlocal updates
            updates += "UPDATE management_token" in query
            return await original(query, values)

        conn.execute_query = counted  # type: ignore[method-assign]
        t0 = time.perf_counter()
        result = await flush(buffer)
        flushed = time.perf_counter() - t0
        print(f"recorded {USES} uses in {recorded:.2f} s ({USES / recorded:,.0f}/s, {CONCURRENCY} concurrent); "
              f"{fell_back} token(s) kept in process for a moment and drained")
        print(f"flush ({conn.capabilities.dialect}): {result.uses} tokens in {result.batches} batch(es), "
              f"{updates} UPDATE statement(s), {flushed:.2f} s ({result.uses / flushed:,.0f} tokens/s)")
        await client.flushdb()
        await client.aclose()
        await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main())
