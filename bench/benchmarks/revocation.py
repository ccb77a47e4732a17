"""The revocation row: what one process revokes, the other refuses on its very next request.

Two API processes (A and B: the real app, one uvicorn worker each) on PostgreSQL and Redis. For
each of N API keys (1,000 in the full profile): B verifies it three times (the first answer comes
from the database, the later ones from B's cache), A deletes it (`deleteApiKey` with a management
token), then B verifies it once more: that answer must be UNKNOWN_KEY. pg_stat_statements counts
B's lookups of keys by hash, which tells how many of B's answers before the deletions came from
its cache (else the row would prove nothing about the cache).
Target: 100 % of the next requests refused; a check that B's cache answered at least half of the
verifies before the deletions.
"""

import asyncio
from datetime import UTC, datetime

import httpx

from app.graphql.ids import to_global_id
from app.security import tokens
from app.security.permissions import Permission, encode_permissions
from app.security.tokens import TokenKind
from bench import database, seed, server
from bench.benchmarks._shared import request_workspace
from bench.context import Bench
from bench.pgstats import StatementCounter
from bench.report import Check, Result, Target

NAME = "revocation"
TITLE = "revocation seen by the other process: deleteApiKey in A, verify in B"
WARM_VERIFIES = 3
DELETE_KEY = "mutation($id: ID!) { deleteApiKey(input: {id: $id}) { deletedId userErrors { code } } }"
KEY_LOOKUP = r"from\s+api_key\s+where\s+key_hash"


async def _deleting_token(bench: Bench, workspace_id: int) -> str:
    secret = tokens.generate(TokenKind.MANAGEMENT)
    conn = await database.connect(bench.database_url)
    try:
        await conn.execute(
            "INSERT INTO management_token (workspace_id, name, active_name, key_prefix, token_hash, permissions, "
            "created_at, created_by_kind, created_by_label) VALUES ($1, 'bench deleter', 'bench deleter', $2, $3, $4, "
            "$5, 'SYSTEM', 'bench seed')",
            workspace_id,
            secret.display_prefix,
            secret.digest,
            encode_permissions({Permission.DELETE_API_KEYS}),
            datetime.now(UTC),
        )
    finally:
        await conn.close()
    return secret.value


async def run(bench: Bench) -> Result:
    pairs = bench.profile.revocation_pairs
    workspace = await request_workspace(bench)
    conn = await database.connect(bench.database_url)
    try:
        keys = await seed.api_keys(conn, workspace.workspace_id, pairs)
    finally:
        await conn.close()
    deleter = await _deleting_token(bench, workspace.workspace_id)
    counter = await StatementCounter.open(bench.database_url)
    accepted_after = warm_refused = 0
    started = asyncio.get_running_loop().time()
    try:
        with (
            server.serve(server.REAL_APP, bench.database_url, bench.redis_url) as a,
            server.serve(server.REAL_APP, bench.database_url, bench.redis_url) as b,
            server.worker(bench.database_url, bench.redis_url),
        ):
            async with (
                httpx.AsyncClient(base_url=a.url, timeout=30) as to_a,
                httpx.AsyncClient(base_url=b.url, timeout=30) as to_b,
            ):
                await counter.reset()
                bench.say(f"{NAME}: {pairs:,} keys: verify in B, delete in A, verify in B")
                for key_id, key in zip(keys.key_ids, keys.secrets, strict=True):
                    for _ in range(WARM_VERIFIES):
                        answer = await to_b.post("/v1/keys/verify", json={"key": key})
                        warm_refused += answer.json()["valid"] is not True
                    deleted = await to_a.post(
                        "/graphql",
                        json={"query": DELETE_KEY, "variables": {"id": to_global_id("ApiKey", key_id)}},
                        headers={"Authorization": f"Bearer {deleter}"},
                    )
                    payload = deleted.json()["data"]["deleteApiKey"]
                    if payload["userErrors"] or not payload["deletedId"]:
                        raise RuntimeError(f"deleteApiKey failed: {deleted.text}")
                    answer = await to_b.post("/v1/keys/verify", json={"key": key})
                    accepted_after += answer.json()["valid"] is not False
                lookups = await counter.matching(KEY_LOOKUP)
    finally:
        await counter.close()
    seconds = asyncio.get_running_loop().time() - started
    if warm_refused:
        raise RuntimeError(f"B refused {warm_refused} verifies of live keys before their deletion")
    refused = pairs - accepted_after
    # B looks a key up at its first verify (nothing cached) and at the one after the deletion (the
    # epoch moved); every other lookup is a warm verify the cache did not answer.
    warm = pairs * WARM_VERIFIES
    from_cache = None if lookups is None else max(0, warm - (lookups - pairs)) / warm
    return Result(
        name=NAME,
        title=TITLE,
        unit="refused",
        value=refused,
        baseline=pairs,
        target=Target("ratio", ">=", 1),
        checks=[
            Check("B's verifies before the deletion answered from its cache", from_cache, ">=", 0.5, "", counter.reason)
        ],
        notes=[f"{refused:,} of {pairs:,} next requests refused", f"{seconds:.0f} s"],
        details={
            "pairs": pairs,
            "warm_verifies_per_key": WARM_VERIFIES,
            "accepted_after_deletion": accepted_after,
            "key_lookups_in_database": lookups,
            "share_of_warm_verifies_from_cache": from_cache,
        },
    )
