"""One module per row of the performance table, in the table's order.

Each module has `NAME`, `TITLE` and `async def run(bench) -> Result` (or a list of rows measured
by one run, e.g. verify's throughput and p99), and starts and stops what it needs itself, so any
one of them runs alone (`python -m bench --only NAME`).
"""

from types import ModuleType

from bench.benchmarks import (
    flush,
    graphql_throughput,
    last_used_batching,
    memory,
    refused_tokens,
    revocation,
    stale_sweep,
    verify,
    verify_workers,
)

ALL: dict[str, ModuleType] = {
    module.NAME: module
    for module in (
        verify,
        verify_workers,
        graphql_throughput,
        revocation,
        last_used_batching,
        flush,
        stale_sweep,
        refused_tokens,
        memory,
    )
}
