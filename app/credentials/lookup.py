"""The database's verdict on a presented API key or management token: one indexed query, no ORM.

Hand-written statements on Tortoise's connection: building them with the query builder, and
20-odd model instances, cost more CPU than running them (this is the path of every request).
The one row read carries everything the checks need (the state model's columns, an API key's
metadata), so no rule costs another query.
"""

from datetime import datetime
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
from app.services.credential_state import CredentialKind, CredentialState, Refusal, state_of
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
    TokenKind.API_KEY: _lookup("api_key", "id, project_id, workspace_id, allowed_ips, meta", "key_hash", API_KEY),
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


def valid_answer(row: dict[str, Any], expires_at: datetime | None) -> bytes:
    """Verify's body for a valid key: its IDs, its expiry, and its metadata spliced in as stored.

    `meta` is kept as canonical JSON text of an object (app.services.key_meta), so the answer is
    built without parsing it.
    """
    head = orjson.dumps(
        {
            "valid": True,
            "keyId": global_id("ApiKey", row["id"]),
            "projectId": global_id("Project", row["project_id"]),
            "workspaceId": global_id("Workspace", row["workspace_id"]),
            "expiresAt": expires_at,
        }
    )
    meta = row["meta"]
    return head[:-1] + b',"meta":' + (meta.encode() if meta else b"null") + b"}"


async def look_up(kind: TokenKind, digest: str) -> Verified | Refusal | None:
    """The usable credential of this kind with this digest; Refusal.EXPIRED; None: unknown, deleted, revoked."""
    conn = get_connection("default")
    rows = await conn.execute_query_dict(_SQL[kind](conn), [digest])
    if not rows:
        return None
    row = rows[0]
    state = state_of(_KINDS[kind], row, utcnow())
    if state is not CredentialState.ACTIVE:
        return Refusal.EXPIRED if state is CredentialState.EXPIRED else None
    expires_at = read_time(row["expires_at"])
    if kind is TokenKind.API_KEY:
        return Verified(
            kind=kind,
            id=row["id"],
            workspace_id=row["workspace_id"],
            project_id=row["project_id"],
            expires_at=expires_at,
            allowlist=Allowlist.from_stored(row["allowed_ips"]),
            answer=valid_answer(row, expires_at),
        )
    permissions = decode_permissions(row["permissions"])
    return Verified(
        kind=kind,
        id=row["id"],
        workspace_id=row["workspace_id"],
        permissions=permissions,
        expires_at=expires_at,
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
