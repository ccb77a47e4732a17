"""Row 6: memory of the API process over 100,000 authenticated requests.

Subject: the real app with Redis and `keyward worker` beside it, the projects query with the 50
tokens in turn, sent by the harness's own keep-alive client (an exact count, 16 connections).
Baseline: the process's RSS after the first 1,000 requests (caches, pools and the allocator warm).
Target: RSS grows by less than 20 MB by the end.
"""

from bench import client, load, server
from bench.benchmarks._shared import expect_projects, mb, request_workspace
from bench.context import Bench
from bench.report import Result, Target

NAME = "memory"
TITLE = "RSS of the API process over authenticated requests"


async def run(bench: Bench) -> Result:
    p = bench.profile
    workspace = await request_workspace(bench)
    body = load.graphql_body()
    with (
        server.serve(server.REAL_APP, bench.database_url, bench.redis_url) as real,
        server.worker(bench.database_url, bench.redis_url),
    ):
        expect_projects(real.url, workspace.secrets[0], "keyward")
        requests = [client.graphql_request(real.host, real.port, t, body) for t in workspace.secrets]
        bench.say(f"{NAME}: {p.memory_first:,} requests, then {p.memory_requests - p.memory_first:,} more")
        first = await client.send(real.host, real.port, requests, p.memory_first)
        rss_first = real.rss_bytes()
        rest = await client.send(real.host, real.port, requests, p.memory_requests - p.memory_first)
        real.check_alive()
        rss_end = real.rss_bytes()
    statuses = first.statuses + rest.statuses
    if set(statuses) != {200}:
        raise RuntimeError(f"not every request was answered 200: {dict(statuses)}")
    return Result(
        name=NAME,
        title=f"RSS of the API process over {p.memory_requests:,} authenticated requests",
        unit="MB",
        value=round(mb(rss_end), 2),
        baseline=round(mb(rss_first), 2),
        target=Target("difference", "<", 20, "MB"),
        notes=[f"{p.memory_requests / (first.seconds + rest.seconds):,.0f} req/s from the harness's client"],
        details={
            "after_first": first.as_dict(),
            "after_rest": rest.as_dict(),
            "rss_first": rss_first,
            "rss_end": rss_end,
        },
    )
