from datetime import datetime

import strawberry

from app.graphql.enums import AuditActionEnum
from app.graphql.ids import stored_ref_to_global_id, to_global_id
from app.graphql.types.common import Actor, Node
from app.services.audit import AuditAction
from app.services.records import AuditEventRecord


@strawberry.type
class AuditEvent(Node):
    id: strawberry.ID
    occurred_at: datetime
    actor: Actor
    action: str = strawberry.field(
        description="e.g. management_token.created, management_token.revoked, api_key.deleted (actionCode as text)"
    )
    action_code: AuditActionEnum = strawberry.field(description="The action, as an enum for programs.")  # type: ignore[valid-type]
    target_type: str
    target_id: strawberry.ID | None
    ip_address: str | None

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
