"""The database's verdict on a presented API key or management token: one indexed query, no ORM.

Hand-written statements on Tortoise's connection: building them with the query builder, and
20-odd model instances, cost more CPU than running them (this is the path of every request).
"""

from typing import Any

import orjson
from tortoise.connection import get_connection

from app.clock import utcnow
from app.credentials.cache import Verified
from app.security.ip_allowlist import Allowlist
from app.security.permissions import decode_permissions
from app.security.principal import Principal, PrincipalKind
from app.security.project_scope import decode_scope
from app.security.tokens import TokenKind
from app.services.credential_state import CredentialKind, is_usable
from app.services.global_ids import global_id
from app.sql_dialect import read_time, statement

API_KEY, MANAGEMENT_TOKEN = CredentialKind.API_KEY, CredentialKind.MANAGEMENT_TOKEN


def _lookup(table: str, columns: str, hash_column: str, kind: CredentialKind) -> Any:
    """Read the columns the state model's rules judge too; the rules are applied to the row in Python."""
    return statement(
        lambda d: (
            f"SELECT {columns}"  # noqa: S608
            + "".join(f", {column}" for column in kind.columns)
            + f" FROM {table} WHERE {hash_column} = {d.param(1)}"
        )
    )


_SQL = {
    TokenKind.API_KEY: _lookup("api_key", "id, project_id, workspace_id, allowed_ips", "key_hash", API_KEY),
    TokenKind.MANAGEMENT: _lookup(
        "management_token",
        "id, workspace_id, name, key_prefix, permissions, allowed_ips, project_ids",
        "token_hash",
        MANAGEMENT_TOKEN,
    ),
}
_KINDS = {TokenKind.API_KEY: API_KEY, TokenKind.MANAGEMENT: MANAGEMENT_TOKEN}


def token_label(name: str, key_prefix: str) -> str:
    return f"{name} ({key_prefix}…)"


async def look_up(kind: TokenKind, digest: str) -> Verified | None:
    """The usable credential of this kind with this digest, or None (unknown, deleted, revoked)."""
    conn = get_connection("default")
    rows = await conn.execute_query_dict(_SQL[kind](conn), [digest])
    if not rows or not is_usable(_KINDS[kind], rows[0], utcnow()):
        return None
    row = rows[0]
    if kind is TokenKind.API_KEY:
        return Verified(
            kind=kind,
            id=row["id"],
            workspace_id=row["workspace_id"],
            project_id=row["project_id"],
            expires_at=read_time(row.get("expires_at")),
            allowlist=Allowlist.from_stored(row["allowed_ips"]),
            answer=orjson.dumps(
                {
                    "valid": True,
                    "keyId": global_id("ApiKey", row["id"]),
                    "projectId": global_id("Project", row["project_id"]),
                    "workspaceId": global_id("Workspace", row["workspace_id"]),
                }
            ),
        )
    permissions = decode_permissions(row["permissions"])
    return Verified(
        kind=kind,
        id=row["id"],
        workspace_id=row["workspace_id"],
        permissions=permissions,
        expires_at=read_time(row.get("expires_at")),
        allowlist=Allowlist.from_stored(row["allowed_ips"]),
        principal=Principal(
            kind=PrincipalKind.MANAGEMENT_TOKEN,
            workspace_id=row["workspace_id"],
            permissions=permissions,
            token_id=row["id"],
            token_label=token_label(row["name"], row["key_prefix"]),
            project_ids=decode_scope(row["project_ids"]),
        ),
    )
