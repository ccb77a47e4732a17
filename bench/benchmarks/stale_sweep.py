"""Row 4: the stale sweep over 100,000 and over 1,000,000 tokens in 10 workspaces.

For each size: empty tables, COPY the sweep population (`bench.seed.sweep_tokens`: 10 % stale on
a first sweep, half the workspaces auto-revoking), VACUUM ANALYZE, then the real sweep in its own
process (`bench.sweep_child`: what `keyward stale-sweep` runs). Time is the sweep's own (measured
inside the child, after imports and connecting); memory is the child's peak RSS from wait4().
Baseline: the smaller size in the same run. Targets: time grows at most 12 times for 10 times the
tokens, and the peak memory grows by less than 50 MB.
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile

from bench import database, seed
from bench.benchmarks._shared import mb
from bench.context import Bench
from bench.report import Check, Result, Target

NAME = "stale_sweep"
TITLE = "stale sweep, 10 workspaces, 10× the tokens"


def _sweep_in_child(database_url: str) -> dict[str, object]:
    """Run bench.sweep_child and reap it with wait4(), which reports that one child's peak RSS."""
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "bench.sweep_child"],
            cwd=database.ROOT,
            env=database.service_env(database_url),
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        assert process.stdout is not None
        out = process.stdout.read()
        process.stdout.close()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"the sweep process exited with {process.returncode}:\n{errors.read()[-3000:]}")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    report: dict[str, object] = json.loads(lines[-1])
    report["maxrss_kib"] = usage.ru_maxrss  # Linux: KiB, this child's own peak
    return report


async def _one_size(bench: Bench, size: int) -> dict[str, object]:
    conn = await database.connect(bench.database_url)
    try:
        await database.empty_tables(conn)
        bench.say(f"{NAME}: seeding {size:,} tokens (COPY)")
        population = await seed.sweep_tokens(conn, size)
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    bench.say(f"{NAME}: sweeping {size:,} tokens")
    report = await asyncio.to_thread(_sweep_in_child, bench.database_url)
    result = report["result"]
    assert isinstance(result, dict)
    if result.get("stale") != population.expected_stale:
        raise RuntimeError(
            f"the sweep of {size:,} tokens found {result.get('stale')} stale tokens, "
            f"the seed made {population.expected_stale}"
        )
    return {"tokens": size, "mix": population.mix, **report}


async def run(bench: Bench) -> Result:
    small_size, large_size = bench.profile.sweep_sizes
    small = await _one_size(bench, small_size)
    large = await _one_size(bench, large_size)
    conn = await database.connect(bench.database_url)
    try:
        await database.empty_tables(conn)  # leave no million rows behind for the next benchmark
    finally:
        await conn.close()
    growth_mb = mb((int(large["maxrss_kib"]) - int(small["maxrss_kib"])) * 1024)  # type: ignore[call-overload]
    return Result(
        name=NAME,
        title=f"stale sweep, {large_size:,} vs {small_size:,} tokens in 10 workspaces",
        unit="s",
        value=float(large["seconds"]),  # type: ignore[arg-type]
        baseline=float(small["seconds"]),  # type: ignore[arg-type]
        target=Target("ratio", "<=", 12),
        checks=[Check("peak RSS growth", growth_mb, "<", 50, " MB")],
        notes=[
            f"peak RSS {mb(int(small['maxrss_kib']) * 1024):.0f} → {mb(int(large['maxrss_kib']) * 1024):.0f} MB",  # type: ignore[call-overload]
            f"stale found {small['result']['stale']:,} → {large['result']['stale']:,}",  # type: ignore[index]
        ],
        details={"small": small, "large": large},
    )
