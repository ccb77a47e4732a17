"""The audit log: every administrative action, never a secret."""

from typing import Any

from app.models import AuditEvent
from app.security.principal import Principal
from app.services.actors import actor_of
from app.services.pagination import Page, paginate


async def record(
    principal: Principal,
    action: str,
    target_type: str,
    target_id: int | str | None,
    *,
    workspace_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    actor = actor_of(principal)
    return await AuditEvent.create(
        workspace_id=workspace_id if workspace_id is not None else principal.workspace_id,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else f"{target_type}:{target_id}",
        ip_address=principal.ip_address,
        details=details,
    )


async def list_events(principal: Principal, first: int | None, after: str | None) -> Page[AuditEvent]:
    query = AuditEvent.filter(workspace_id=principal.workspace_id)
    return await paginate(query, first, after, newest_first=True)
