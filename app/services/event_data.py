"""What a webhook body's `data` says about an object: the fields the GraphQL API shows, never a secret."""

from datetime import datetime
from typing import Any

from app.clock import utcnow
from app.models import ApiKey, ManagementToken, StaleTokenReport
from app.security.ip_allowlist import entries_of
from app.security.permissions import PERMISSION_ORDER, decode_permissions
from app.security.principal import Principal
from app.security.project_scope import decode_scope
from app.services.actors import actor_of
from app.services.credential_state import CredentialKind, state_of
from app.services.global_ids import global_id, stored_ref_to_global_id


def time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def actor(principal: Principal) -> dict[str, Any]:
    record = actor_of(principal)
    return {"kind": record.kind, "id": stored_ref_to_global_id(record.id), "label": record.label}


def _created_by(kind: str, ref: str | None, label: str) -> dict[str, Any]:
    return {"kind": kind, "id": stored_ref_to_global_id(ref), "label": label}


def _scope_ids(stored: str | None) -> list[str] | None:
    scope = decode_scope(stored)
    return None if scope is None else [global_id("Project", pk) for pk in sorted(scope)]


def management_token(row: ManagementToken) -> dict[str, Any]:
    granted = decode_permissions(row.permissions)
    replaces_id = row.replaces_id  # type: ignore[attr-defined]
    return {
        "id": global_id("ManagementToken", row.id),
        "name": row.name,
        "keyPrefix": row.key_prefix,
        "permissions": [p.value for p in PERMISSION_ORDER if p in granted],
        "status": state_of(CredentialKind.MANAGEMENT_TOKEN, row, utcnow()).value,
        "createdAt": time(row.created_at),
        "lastUsedAt": time(row.last_used_at),
        "revokedAt": time(row.revoked_at),
        "staleSince": time(row.stale_since),
        "expiresAt": time(row.expires_at),
        "allowedIps": entries_of(row.allowed_ips),
        "projectIds": _scope_ids(row.project_ids),
        "createdBy": _created_by(row.created_by_kind, row.created_by_id, row.created_by_label),
        "replacesId": global_id("ManagementToken", replaces_id) if replaces_id else None,
    }


def api_key(row: ApiKey) -> dict[str, Any]:
    return {
        "id": global_id("ApiKey", row.id),
        "name": row.name,
        "keyPrefix": row.key_prefix,
        "createdAt": time(row.created_at),
        "lastUsedAt": time(row.last_used_at),
        "status": state_of(CredentialKind.API_KEY, row, utcnow()).value,
        "expiresAt": time(row.expires_at),
        "allowedIps": entries_of(row.allowed_ips),
        "createdBy": _created_by(row.created_by_kind, row.created_by_id, row.created_by_label),
        "projectId": global_id("Project", row.project_id),  # type: ignore[attr-defined]
    }


def member(user_id: int, email: str, role: str | None) -> dict[str, Any]:
    return {"id": global_id("User", user_id), "email": email, "role": role}


def stale_report(
    report: StaleTokenReport,
    entries: list[dict[str, Any]],
    entry_count: int,
    auto_revoked: int,
    expiring_api_keys: list[dict[str, Any]],
    expiring_api_key_count: int,
) -> dict[str, Any]:
    return {
        "id": global_id("StaleTokenReport", report.id),
        "generatedAt": time(report.generated_at),
        "staleAfterDays": report.stale_after_days,
        "entryCount": entry_count,
        "autoRevokedCount": auto_revoked,
        "entries": entries,
        "entriesTruncated": len(entries) < entry_count,
        "expiringApiKeyCount": expiring_api_key_count,
        "expiringApiKeys": expiring_api_keys,
        "expiringApiKeysTruncated": len(expiring_api_keys) < expiring_api_key_count,
    }
