"""One module per row of the performance table, in the table's order.

Each module has `NAME`, `TITLE` and `async def run(bench) -> Result`, and starts and stops what
it needs itself, so any one of them runs alone (`python -m bench --only NAME`).
"""

from types import ModuleType

from bench.benchmarks import flush, graphql_throughput, last_used_batching, memory, refused_tokens, stale_sweep

ALL: dict[str, ModuleType] = {
    module.NAME: module
    for module in (graphql_throughput, last_used_batching, flush, stale_sweep, refused_tokens, memory)
}
