"""Tens of thousands of management tokens in one statement, for backlog tests (both databases)."""

from tortoise.connection import get_connection

from app.models import ManagementToken, Workspace


async def seed_tokens(count: int, *, workspace_name: str = "Backlog") -> list[int]:
    """`count` active management tokens in a new workspace, created now; returns their ids in order."""
    workspace = await Workspace.create(name=workspace_name)
    conn = get_connection("default")
    if conn.capabilities.dialect == "postgres":
        numbers = "SELECT generate_series(1, $2) AS n"
        now = "now()"
        params: list[object] = [workspace.id, count]
    else:
        numbers = "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?2) SELECT n FROM s"
        now = "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')"
        params = [workspace.id, count]
    first = "$1" if conn.capabilities.dialect == "postgres" else "?1"
    await conn.execute_query(
        "INSERT INTO management_token (workspace_id, name, key_prefix, token_hash, permissions, created_at, "  # noqa: S608
        "created_by_kind, created_by_label) "
        f"SELECT {first}, 'backlog ' || n, 'kwm_backlog', 'backlog-{workspace.id}-' || n, 'VIEW_PROJECTS', {now}, "
        f"'SYSTEM', 'test seed' FROM ({numbers}) AS numbers",
        params,
    )
    return list(
        await ManagementToken.filter(workspace_id=workspace.id).order_by("id").values_list("id", flat=True)  # type: ignore[arg-type]
    )
