"""Helpers several benchmarks share: a freshly seeded request workspace and a sanity check of answers."""

from bench import database, seed
from bench.client import post_graphql
from bench.context import Bench
from bench.load import PROJECTS_QUERY, graphql_body


async def request_workspace(bench: Bench) -> seed.RequestWorkspace:
    """Empty tables, then the workspace with 25 projects and 50 management tokens the requests use."""
    conn = await database.connect(bench.database_url)
    try:
        await database.empty_tables(conn)
        workspace = await seed.request_workspace(conn)
        await database.vacuum_analyze(conn, "management_token", "project", "workspace")
        return workspace
    finally:
        await conn.close()


def expect_projects(url: str, token: str, what: str) -> None:
    """The measured query answers 20 projects and no error (else a throughput figure would mean nothing)."""
    status, answer = post_graphql(url, token, graphql_body(PROJECTS_QUERY))
    data = answer.get("data") if isinstance(answer, dict) else None
    edges = (data or {}).get("projects", {}).get("edges") if isinstance(data, dict) else None
    if status != 200 or answer.get("errors") or not isinstance(edges, list) or len(edges) != 20:
        raise RuntimeError(f"{what}: the projects query did not answer 20 projects: HTTP {status} {answer}")


def expect_refused(url: str, token: str, what: str) -> None:
    status, answer = post_graphql(url, token, graphql_body(PROJECTS_QUERY))
    if status != 401:
        raise RuntimeError(f"{what}: expected HTTP 401, got {status} {answer}")


def mb(value_bytes: float) -> float:
    return value_bytes / (1024 * 1024)
