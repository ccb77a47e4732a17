"""The batching row, restated: the database work of recording last use, batched against an UPDATE per request.

Subject: the real app with Redis and `keyward worker` (flushing every 10 s, as shipped).
Baseline: `bench.per_request_update` (the real app, its usage buffer swapped for one UPDATE per
request), same flags. Exactly N requests (10,000 in the full profile) over the 50 tokens go to
each; the batched count covers everything from the first of the N requests until their uses are
in the database: the worker's periodic flushes, its flush on shutdown and a last `keyward worker
--burst`; the harness then checks that all 50 tokens' last_used_at moved. Measured for each side,
from `pg_stat_statements` (the throwaway cluster preloads it): the UPDATE statements on
management_token, their total execution time and the WAL they wrote; and the WAL the whole
cluster wrote during the run (`pg_current_wal_lsn`, commit records included), reported beside.
Each side starts after a CHECKPOINT and one change of every token row: the full-page image a page
writes at its first change after a checkpoint is paid before the count, by both sides alike (it is
paid once per page per checkpoint, however the changes that follow are written); the full-page
images counted are reported (0 when the harness did its job).
Targets: statements, execution time and WAL bytes each at least 100 times lower than the variant's.
The WAL a flush writes is one row version per token used since the last flush, so the WAL reduction
is bounded by the uses per token per flush interval (10,000 requests on 50 tokens over one or two
10 s intervals: 100 to 200 ×); the row reports that bound beside the measurement.

The old throughput target (≥ 1.3 × the variant's requests per second) is retired: on a 2-core
machine the one API process, not the database, is the bottleneck (recording nothing at all was
1.08 to 1.22 × the variant in every run measured), so throughput could not show what batching
saves; the database's work is what it exists to save.
"""

import asyncio
import subprocess
import sys
from datetime import UTC, datetime

from bench import client, database, load, server
from bench.benchmarks._shared import expect_projects, request_workspace
from bench.context import Bench
from bench.pgstats import StatementCounter, Work
from bench.report import Check, Result, Target

NAME = "last_used_batching"
TITLE = "database work of last-used recording: an UPDATE per request over batching"


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


def _bound(variant: Work | None, batched: Work | None) -> str:
    if variant is None or batched is None or not batched.rows:
        return "not measured"
    return f"{variant.rows / batched.rows:,.0f} ×"


def _reduction(variant: float | None, batched: float | None) -> float | None:
    if variant is None or batched is None:
        return None
    return variant / batched if batched else float("inf") if variant else None


async def run(bench: Bench) -> Result:
    n = bench.profile.count_requests
    workspace = await request_workspace(bench)
    counter = await StatementCounter.open(bench.database_url)
    body = load.graphql_body()
    try:
        with (
            server.serve(server.REAL_APP, bench.database_url, bench.redis_url) as batched,
            server.serve(server.PER_REQUEST_UPDATE_APP, bench.database_url) as variant,
        ):
            expect_projects(batched.url, workspace.secrets[0], "keyward")
            expect_projects(variant.url, workspace.secrets[0], "per-request UPDATE variant")
            with server.worker(bench.database_url, bench.redis_url):
                bench.say(f"{NAME}: {n:,} requests to each, counting the database's work")
                await _burst_flush(bench)  # what the checks above left buffered is not part of the count
                await counter.pay_full_page_images(workspace.workspace_id)
                await counter.reset()
                wal_from = await counter.wal_position()
                started = datetime.now(UTC)
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
            batched_work = await counter.token_update_work()
            batched_wal = await counter.wal_bytes_since(wal_from)
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

            await counter.pay_full_page_images(workspace.workspace_id)
            await counter.reset()
            wal_from = await counter.wal_position()
            sent_variant = await client.send(
                variant.host,
                variant.port,
                [client.graphql_request(variant.host, variant.port, t, body) for t in workspace.secrets],
                n,
            )
            variant_work = await counter.token_update_work()
            variant_wal = await counter.wal_bytes_since(wal_from)
            variant_top = await counter.top()
    finally:
        await counter.close()

    for label, sent in (("batched", sent_batched), ("per-request UPDATE", sent_variant)):
        if set(sent.statuses) != {200}:
            raise RuntimeError(f"{label}: the counted requests were not all answered 200: {dict(sent.statuses)}")

    note = counter.reason
    usable = counter.available and moved == len(workspace.secrets) and bool(batched_work and batched_work.statements)
    if counter.available and moved != len(workspace.secrets):
        note = f"only {moved} of {len(workspace.secrets)} tokens' last_used_at reached the database"
    elif counter.available and not usable:
        note = "no UPDATE counted although last_used_at moved: the counter's pattern misses the flush's statement"

    def reduction(of: str) -> float | None:
        if not usable or batched_work is None or variant_work is None:
            return None
        return _reduction(getattr(variant_work, of), getattr(batched_work, of))

    per_request = None if variant_work is None else variant_work.statements / n

    def described(work: Work | None) -> str:
        if work is None:
            return "not measured"
        return (
            f"{work.statements:,} UPDATEs of {work.rows:,} rows, {work.exec_ms:,.1f} ms, {work.wal_bytes:,} WAL bytes "
            f"({work.full_page_images} full-page images)"
        )

    return Result(
        name=NAME,
        title=TITLE,
        unit="UPDATEs",
        value=variant_work.statements if variant_work and usable else None,
        baseline=batched_work.statements if batched_work and usable else None,
        target=Target("ratio", ">=", 100),
        checks=[
            Check("execution time reduction", reduction("exec_ms"), ">=", 100, "×", note),
            Check("WAL bytes reduction", reduction("wal_bytes"), ">=", 100, "×", note),
            Check("variant UPDATEs per request (counter self-check)", per_request, ">=", 1, "", counter.reason),
        ],
        notes=[
            f"{n:,} requests on {len(workspace.secrets)} tokens: batched {described(batched_work)}; "
            f"per request {described(variant_work)}",
            f"whole-cluster WAL during the run: {batched_wal:,} bytes batched, {variant_wal:,} per request",
            f"bound on the WAL reduction (rows written per request over batched): {_bound(variant_work, batched_work)}",
        ],
        details={
            "counted_requests": n,
            "tokens": len(workspace.secrets),
            "batched": {"app": server.REAL_APP, "with": "Redis usage buffer, keyward worker"}
            | (batched_work.as_dict() if batched_work else {})
            | {"cluster_wal_bytes": batched_wal},
            "per_request_variant": {"app": server.PER_REQUEST_UPDATE_APP}
            | (variant_work.as_dict() if variant_work else {})
            | {"cluster_wal_bytes": variant_wal},
            "updates_batched": batched_work.statements if batched_work else None,
            "updates_per_request_variant": variant_work.statements if variant_work else None,
            "tokens_whose_last_used_at_moved": moved,
            "sent_batched": sent_batched.as_dict(),
            "sent_variant": sent_variant.as_dict(),
            "top_statements_batched": batched_top,
            "top_statements_variant": variant_top,
        },
    )
