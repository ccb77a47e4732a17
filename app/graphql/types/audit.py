from datetime import datetime

import strawberry

from app.graphql.enums import AuditActionEnum
from app.graphql.ids import stored_ref_to_global_id, to_global_id
from app.graphql.types.common import Actor, Node, node_id
from app.services.audit import AuditAction
from app.services.records import AuditEventRecord


@strawberry.type(description="One administrative action, as the audit log keeps it (never a secret).")
class AuditEvent(Node):
    id: strawberry.ID = node_id()
    occurred_at: datetime = strawberry.field(description="When it happened.")
    actor: Actor = strawberry.field(description="Who did it.")
    action: str = strawberry.field(
        description="e.g. management_token.created, management_token.revoked, api_key.deleted (actionCode as text)"
    )
    action_code: AuditActionEnum = strawberry.field(description="The action, as an enum for programs.")  # type: ignore[valid-type]
    target_type: str = strawberry.field(description="The kind of object acted on, e.g. ManagementToken.")
    target_id: strawberry.ID | None = strawberry.field(description="Its global ID (it may be deleted since).")
    ip_address: str | None = strawberry.field(description="The caller's client IP; null for the system.")

    @classmethod
    def from_model(cls, row: AuditEventRecord) -> "AuditEvent":
        return cls(
            id=to_global_id("AuditEvent", row.id),
            occurred_at=row.occurred_at,
            actor=Actor.from_record(row.actor_kind, row.actor_id, row.actor_label),
            action=row.action,
            action_code=AuditActionEnum[AuditAction(row.action).name],
            target_type=row.target_type,
            target_id=stored_ref_to_global_id(row.target_id),
            ip_address=row.ip_address,
        )
