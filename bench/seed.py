"""Fast bulk seeding with asyncpg COPY (a million tokens in seconds, never ORM inserts).

Two shapes:
- `request_workspace`: one workspace with 25 projects and 50 management tokens (VIEW_PROJECTS)
  whose secrets the harness knows, made with the service's own token code (`app.security.tokens`:
  format, checksum, SHA-256), so a request with one of them authenticates like any other;
- `sweep_tokens`: N tokens spread round-robin over 10 workspaces, for the flush and the stale sweep.

The sweep population, by a seeded random generator so every run and size has the same mix:
85 % used in the last 30 days, 5 % last used 100–179 days ago (stale, flagged only),
3 % last used 200–600 days ago and 2 % never used and created 200+ days ago (stale; revoked by
the sweep in the five workspaces with `auto_revoke_stale_after_days = 180`), 5 % already revoked.
Every workspace keeps the default `stale_after_days = 90`. So a first sweep finds 10 % stale.
"""

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from app.security import tokens
from app.security.permissions import Permission, encode_permissions
from app.security.tokens import TokenKind

REQUEST_TOKENS = 50
REQUEST_PROJECTS = 25
SWEEP_WORKSPACES = 10
AUTO_REVOKE_DAYS = 180
BENCH_IP = "192.0.2.10"

_TOKEN_COLUMNS = (
    "workspace_id",
    "name",
    "active_name",
    "key_prefix",
    "token_hash",
    "permissions",
    "created_at",
    "last_used_at",
    "last_used_ip",
    "revoked_at",
    "created_by_kind",
    "created_by_label",
)


@dataclass
class RequestWorkspace:
    workspace_id: int
    secrets: list[str]  # the 50 token values, as a client sends them
    token_ids: list[int]


@dataclass
class SweepPopulation:
    workspace_ids: list[int]
    tokens: int
    expected_stale: int  # what a first sweep at `now` must find
    mix: dict[str, int] = field(default_factory=dict)


async def _workspace(conn: asyncpg.Connection, name: str, now: datetime, auto_revoke: int | None = None) -> int:
    return int(
        await conn.fetchval(
            "INSERT INTO workspace (name, stale_after_days, auto_revoke_stale_after_days, created_at) "
            "VALUES ($1, 90, $2, $3) RETURNING id",
            name,
            auto_revoke,
            now - timedelta(days=800),
        )
    )


async def request_workspace(conn: asyncpg.Connection, *, now: datetime | None = None) -> RequestWorkspace:
    now = now or datetime.now(UTC)
    workspace_id = await _workspace(conn, "bench requests", now)
    await conn.copy_records_to_table(
        "project",
        columns=("workspace_id", "name", "description", "created_at", "updated_at"),
        records=[(workspace_id, f"project {i:02d}", None, now, now) for i in range(REQUEST_PROJECTS)],
    )
    secrets = [tokens.generate(TokenKind.MANAGEMENT) for _ in range(REQUEST_TOKENS)]
    permissions = encode_permissions({Permission.VIEW_PROJECTS})
    await conn.copy_records_to_table(
        "management_token",
        columns=_TOKEN_COLUMNS,
        records=[
            (
                workspace_id,
                f"bench {i:02d}",
                f"bench {i:02d}",
                s.display_prefix,
                s.digest,
                permissions,
                now,
                None,
                None,
                None,
                "SYSTEM",
                "bench seed",
            )
            for i, s in enumerate(secrets)
        ],
    )
    ids = await conn.fetch("SELECT id FROM management_token WHERE workspace_id = $1 ORDER BY id", workspace_id)
    return RequestWorkspace(workspace_id, [s.value for s in secrets], [row["id"] for row in ids])


@dataclass
class ApiKeys:
    project_id: int
    secrets: list[str]  # the key values, as a data-plane service sends them to verify
    key_ids: list[int]


async def api_keys(conn: asyncpg.Connection, workspace_id: int, count: int, *, now: datetime | None = None) -> ApiKeys:
    """`count` API keys under the workspace's first project, made with the service's own token code."""
    now = now or datetime.now(UTC)
    project_id = int(
        await conn.fetchval("SELECT id FROM project WHERE workspace_id = $1 ORDER BY id LIMIT 1", workspace_id)
    )
    secrets = [tokens.generate(TokenKind.API_KEY) for _ in range(count)]
    await conn.copy_records_to_table(
        "api_key",
        columns=(
            "workspace_id",
            "project_id",
            "name",
            "key_prefix",
            "key_hash",
            "created_at",
            "created_by_kind",
            "created_by_label",
        ),
        records=[
            (workspace_id, project_id, f"bench key {i:04d}", s.display_prefix, s.digest, now, "SYSTEM", "bench seed")
            for i, s in enumerate(secrets)
        ],
    )
    by_hash = {
        row["key_hash"]: row["id"]
        for row in await conn.fetch("SELECT id, key_hash FROM api_key WHERE project_id = $1", project_id)
    }
    return ApiKeys(project_id, [s.value for s in secrets], [by_hash[s.digest] for s in secrets])


def _sweep_rows(
    workspace_ids: list[int], count: int, now: datetime, mix: dict[str, int]
) -> Iterator[tuple[object, ...]]:
    rng = random.Random(5)  # noqa: S311 (a reproducible population, not a secret)
    permissions = encode_permissions({Permission.VIEW_PROJECTS})
    day = timedelta(days=1)
    for i in range(count):
        workspace_id = workspace_ids[i % len(workspace_ids)]
        created = now - rng.uniform(250, 730) * day
        roll = rng.random()
        last_used = revoked = None
        if roll < 0.85:
            kind, last_used = "recent", now - rng.uniform(0, 30) * day
        elif roll < 0.90:
            kind, last_used = "inactive", now - rng.uniform(100, 179) * day
        elif roll < 0.93:
            kind, last_used = "long_inactive", now - rng.uniform(200, 600) * day
        elif roll < 0.95:
            kind = "never_used"
        else:
            kind, last_used, revoked = "revoked", now - rng.uniform(200, 600) * day, now - rng.uniform(100, 199) * day
        mix[kind] = mix.get(kind, 0) + 1
        name = f"sweep {i}"
        yield (
            workspace_id,
            name,
            None if revoked else name,
            "kwm_sweep",
            hashlib.sha256(name.encode()).hexdigest(),
            permissions,
            created,
            last_used,
            BENCH_IP if last_used else None,
            revoked,
            "SYSTEM",
            "bench seed",
        )


async def sweep_tokens(conn: asyncpg.Connection, count: int, *, now: datetime | None = None) -> SweepPopulation:
    """`count` tokens in 10 workspaces (half of them auto-revoke after 180 days), by COPY, then ANALYZE."""
    now = now or datetime.now(UTC)
    workspace_ids = [
        await _workspace(conn, f"sweep {w}", now, AUTO_REVOKE_DAYS if w % 2 == 0 else None)
        for w in range(SWEEP_WORKSPACES)
    ]
    mix: dict[str, int] = {}
    await conn.copy_records_to_table(
        "management_token", columns=_TOKEN_COLUMNS, records=_sweep_rows(workspace_ids, count, now, mix)
    )
    await conn.execute("VACUUM ANALYZE management_token")
    await conn.execute("VACUUM ANALYZE workspace")
    stale = mix.get("inactive", 0) + mix.get("long_inactive", 0) + mix.get("never_used", 0)
    return SweepPopulation(workspace_ids, count, stale, mix)
