"""The audit log: every administrative action, never a secret."""

from dataclasses import dataclass
from typing import Any

from tortoise import BaseDBAsyncClient

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


@dataclass(frozen=True)
class Draft:
    """An event for `record_many`: the actor and IP come from the principal, shared by all."""

    workspace_id: int
    action: str
    target_type: str
    target_id: int | str | None
    details: dict[str, Any] | None = None


async def record_many(principal: Principal, drafts: list[Draft], *, using_db: BaseDBAsyncClient | None = None) -> None:
    """Many events in bulk INSERTs (the stale sweep audits every token it flags or revokes)."""
    actor = actor_of(principal)
    events = [
        AuditEvent(
            workspace_id=draft.workspace_id,
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_label=actor.label,
            action=draft.action,
            target_type=draft.target_type,
            target_id=None if draft.target_id is None else f"{draft.target_type}:{draft.target_id}",
            ip_address=principal.ip_address,
            details=draft.details,
        )
        for draft in drafts
    ]
    if events:
        await AuditEvent.bulk_create(events, batch_size=1000, using_db=using_db)


async def list_events(principal: Principal, first: int | None, after: str | None) -> Page[AuditEvent]:
    query = AuditEvent.filter(workspace_id=principal.workspace_id)
    return await paginate(query, first, after, newest_first=True)
