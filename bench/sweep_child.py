"""The stale sweep in a process of its own, as `keyward stale-sweep` runs it, timed from inside.

`python -m bench.sweep_child` with KEYWARD_DATABASE_URL set: the same steps as `keyward stale-sweep`
(`workers.context.startup`, `workers.jobs.stale_sweep`: flush, then `run_sweep`), with the sweep
itself timed (imports and connecting are not) and the process's memory read from /proc before and
after. Prints one JSON line. The parent reads the peak RSS of the whole process from wait4().
"""

import asyncio
import json
import time
from pathlib import Path


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


async def main() -> dict[str, object]:
    from workers import context, jobs

    ctx: dict[str, object] = {}
    await context.startup(ctx)
    try:
        rss_before = _status_kib("VmRSS")
        started = time.perf_counter()
        result = await jobs.stale_sweep(ctx)
        seconds = time.perf_counter() - started
    finally:
        await context.shutdown(ctx)
    return {
        "seconds": seconds,
        "result": result,
        "rss_before_sweep_kib": rss_before,
        "rss_after_sweep_kib": _status_kib("VmRSS"),
        "peak_rss_kib": _status_kib("VmHWM"),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())), flush=True)
