"""Row 2: last-used batching against an UPDATE of last_used_at on every request.

Subject: the real app with Redis and `keyward worker` (flushing every 10 s, as shipped).
Baseline: `bench.per_request_update` (the real app, its usage buffer swapped for one UPDATE per
request), same flags. First throughput (wrk, alternating), then the UPDATE count: exactly N
requests (10,000 in the full profile) over the 50 tokens to each, counting UPDATE statements on
management_token in pg_stat_statements. The batched count covers everything from the first of
the N requests until their uses are in the database: the worker's periodic flushes, its flush on
shutdown and a last `keyward worker --burst`; the harness then checks that all 50 tokens' last_used_at moved.
Targets: throughput ≥ 1.3 × the variant; at least 100 times fewer UPDATEs.

Beside them the row measures its ceiling: `bench.no_usage_recording`, the same app recording no
usage at all. No recorder can beat recording nothing, so its ratio over the variant is the most
any last-used design can reach on this machine; it is reported, not judged.
"""

import asyncio
import subprocess
import sys
from datetime import UTC, datetime

from bench import client, database, load, server
from bench.benchmarks._shared import expect_projects, request_workspace
from bench.context import Bench
from bench.pgstats import StatementCounter
from bench.report import Check, Result, Target

NAME = "last_used_batching"
TITLE = "same query, last-used batching vs an UPDATE per request"


async def _burst_flush(bench: Bench) -> None:
    """`keyward worker --burst`: the worker's flush, once, as an operator would run it."""
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "keyward", "worker", "--burst"],
        cwd=database.ROOT,
        env=database.service_env(bench.database_url, bench.redis_url),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"keyward worker --burst failed ({done.returncode}):\n{done.stderr[-2000:]}")


async def run(bench: Bench) -> Result:
    p = bench.profile
    n = p.count_requests
    workspace = await request_workspace(bench)
    counter = await StatementCounter.open(bench.database_url)
    try:
        with (
            server.serve(server.REAL_APP, bench.database_url, bench.redis_url) as batched,
            server.serve(server.PER_REQUEST_UPDATE_APP, bench.database_url) as variant,
            server.serve(server.NO_RECORDING_APP, bench.database_url) as ceiling,
        ):
            expect_projects(batched.url, workspace.secrets[0], "keyward")
            expect_projects(variant.url, workspace.secrets[0], "per-request UPDATE variant")
            expect_projects(ceiling.url, workspace.secrets[0], "no-recording ceiling")
            with server.worker(bench.database_url, bench.redis_url):
                bench.say(f"{NAME}: wrk {p.warmup_seconds:g} s warm-up, then {p.rounds} × {p.measure_seconds:g} s each")
                results = await load.compare(
                    [
                        ("per-request UPDATE", f"{variant.url}/graphql", workspace.secrets, 200),
                        ("batched", f"{batched.url}/graphql", workspace.secrets, 200),
                        ("no recording (ceiling)", f"{ceiling.url}/graphql", workspace.secrets, 200),
                    ],
                    warmup=p.warmup_seconds,
                    seconds=p.measure_seconds,
                    rounds=p.rounds,
                )
                bench.say(f"{NAME}: counting UPDATEs of {n:,} requests to each")
                await _burst_flush(bench)  # what the throughput runs left buffered is not part of the count
                await counter.reset()
                started = datetime.now(UTC)
                body = load.graphql_body()
                sent_batched = await client.send(
                    batched.host,
                    batched.port,
                    [client.graphql_request(batched.host, batched.port, t, body) for t in workspace.secrets],
                    n,
                )
            # The worker stopped with a final flush; the API hands any use Redis did not take in time
            # to Redis within a second; one more flush writes those too.
            await asyncio.sleep(1.5)
            await _burst_flush(bench)
            batched_updates = await counter.token_updates()
            batched_top = await counter.top()
            conn = await database.connect(bench.database_url)
            try:
                moved = await conn.fetchval(
                    "SELECT count(*) FROM management_token WHERE workspace_id = $1 AND last_used_at >= $2",
                    workspace.workspace_id,
                    started,
                )
            finally:
                await conn.close()

            await counter.reset()
            sent_variant = await client.send(
                variant.host,
                variant.port,
                [client.graphql_request(variant.host, variant.port, t, body) for t in workspace.secrets],
                n,
            )
            variant_updates = await counter.token_updates()
            variant_top = await counter.top()
    finally:
        await counter.close()

    for label, sent in (("batched", sent_batched), ("per-request UPDATE", sent_variant)):
        if set(sent.statuses) != {200}:
            raise RuntimeError(f"{label}: the counted requests were not all answered 200: {dict(sent.statuses)}")

    reduction, note = None, ""
    if not counter.available:
        note = counter.reason
    elif moved != len(workspace.secrets):
        note = f"only {moved} of {len(workspace.secrets)} tokens' last_used_at reached the database"
    elif not batched_updates:
        note = "no UPDATE counted although last_used_at moved: the counter's pattern misses the flush's statement"
    elif variant_updates is not None:
        reduction = variant_updates / batched_updates
    per_request = None if variant_updates is None else variant_updates / n
    subject, baseline = results["batched"], results["per-request UPDATE"]
    ceiling_result = results["no recording (ceiling)"]
    ceiling_ratio = ceiling_result.rps / baseline.rps if baseline.rps else None
    return Result(
        name=NAME,
        title=TITLE,
        unit="req/s",
        value=subject.rps,
        baseline=baseline.rps,
        target=Target("ratio", ">=", 1.3),
        checks=[
            Check("UPDATE reduction", reduction, ">=", 100, "×", note),
            Check("variant UPDATEs per request (counter self-check)", per_request, ">=", 1, "", counter.reason),
        ],
        notes=[
            f"UPDATEs for {n:,} requests on {len(workspace.secrets)} tokens: {batched_updates} batched, "
            f"{variant_updates} per-request",
            f"p99 {subject.p99_ms:.1f} ms (per-request UPDATE {baseline.p99_ms:.1f} ms)",
            f"ceiling: recording nothing at all gives {ceiling_result.rps:,.0f} req/s, "
            f"{ceiling_ratio:.2f} × the variant"
            if ceiling_ratio is not None
            else "ceiling not measured",
        ],
        details={
            "subject": {"app": server.REAL_APP, "with": "Redis usage buffer, keyward worker", **subject.as_dict()},
            "baseline": {"app": server.PER_REQUEST_UPDATE_APP, **baseline.as_dict()},
            "ceiling": {"app": server.NO_RECORDING_APP, "ratio_to_baseline": ceiling_ratio, **ceiling_result.as_dict()},
            "counted_requests": n,
            "tokens": len(workspace.secrets),
            "updates_batched": batched_updates,
            "updates_per_request_variant": variant_updates,
            "tokens_whose_last_used_at_moved": moved,
            "sent_batched": sent_batched.as_dict(),
            "sent_variant": sent_variant.as_dict(),
            "top_statements_batched": batched_top,
            "top_statements_variant": variant_top,
        },
    )
