"""The people of a workspace: Member and Invitation."""

from datetime import datetime

import strawberry

from app.graphql.enums import InvitationStatusEnum, WorkspaceRoleEnum
from app.graphql.ids import to_global_id
from app.graphql.types.common import Actor, Node, node_id
from app.services.invitations import status_of
from app.services.records import InvitationRecord, MembershipRecord


@strawberry.type(description="A person's membership of this workspace.")
class Member(Node):
    id: strawberry.ID = node_id()
    email: str = strawberry.field(description="The person's email.")
    role: WorkspaceRoleEnum = strawberry.field(description="The person's role in this workspace.")  # type: ignore[valid-type]
    joined_at: datetime = strawberry.field(description="When the person joined this workspace.")
    last_seen_at: datetime | None = strawberry.field(
        description="When the person last opened a session in this workspace (log-in, switch, invitation)."
    )

    @classmethod
    def from_model(cls, row: MembershipRecord) -> "Member":
        return cls(
            id=to_global_id("Member", row.id),
            email=row.user.email,
            role=row.role,
            joined_at=row.created_at,
            last_seen_at=row.last_seen_at,
        )


@strawberry.type(description="An invitation to join this workspace. Its token is shown (or mailed) once.")
class Invitation(Node):
    id: strawberry.ID = node_id()
    email: str = strawberry.field(description="Who is invited.")
    role: WorkspaceRoleEnum = strawberry.field(description="The role the person gets on accepting.")  # type: ignore[valid-type]
    status: InvitationStatusEnum = strawberry.field(description="Where the invitation stands.")  # type: ignore[valid-type]
    created_at: datetime = strawberry.field(description="When it was made.")
    expires_at: datetime = strawberry.field(description="After this the link no longer works.")
    accepted_at: datetime | None = strawberry.field(description="When the person accepted; null if not.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked or replaced; null if not.")
    invited_by: Actor = strawberry.field(description="Who invited.")

    @classmethod
    def from_model(cls, row: InvitationRecord) -> "Invitation":
        return cls(
            id=to_global_id("Invitation", row.id),
            email=row.email,
            role=row.role,
            status=status_of(row),
            created_at=row.created_at,
            expires_at=row.expires_at,
            accepted_at=row.accepted_at,
            revoked_at=row.revoked_at,
            invited_by=Actor.from_record(row.invited_by_kind, row.invited_by_id, row.invited_by_label),
        )
