"""ManagementToken and the stale-token report that lists them."""

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from app.clock import utcnow
from app.graphql.context import Context
from app.graphql.enums import ManagementTokenStatus, PermissionEnum, StaleReason
from app.graphql.ids import to_global_id
from app.graphql.types.common import Actor, Node
from app.security.permissions import PERMISSION_ORDER, decode_permissions
from app.services import stale_reports
from app.services.credential_state import CredentialKind, state_of
from app.services.records import ManagementTokenRecord, StaleTokenReportRecord


@strawberry.type
class ManagementToken(Node):
    id: strawberry.ID
    name: str
    key_prefix: str
    permissions: list[PermissionEnum]  # type: ignore[valid-type]
    status: ManagementTokenStatus
    created_at: datetime
    last_used_at: datetime | None
    last_used_ip: str | None = strawberry.field(description="The client IP of the newest use.")
    revoked_at: datetime | None
    stale_since: datetime | None = strawberry.field(
        description="Set by the stale-token sweep; cleared when the token is used again."
    )
    leaked_at: datetime | None = strawberry.field(
        description="When the token was first reported leaked (POST /v1/leaks); null if never."
    )
    created_by: Actor
    pk: strawberry.Private[int]
    replaces_pk: strawberry.Private[int | None]

    @strawberry.field(description="Rotation: the token this one replaced.")
    async def replaces(self, info: Info[Context, Any]) -> "ManagementToken | None":
        if self.replaces_pk is None:
            return None
        row = await info.context.token_loader.load(self.replaces_pk)
        return ManagementToken.from_model(row) if row else None

    @strawberry.field(description="Rotation: the token that replaced this one.")
    async def replaced_by(self, info: Info[Context, Any]) -> "ManagementToken | None":
        row = await info.context.replacement_loader.load(self.pk)
        return ManagementToken.from_model(row) if row else None

    @classmethod
    def from_model(cls, row: ManagementTokenRecord) -> "ManagementToken":
        granted = decode_permissions(row.permissions)
        return cls(
            id=to_global_id("ManagementToken", row.id),
            name=row.name,
            key_prefix=row.key_prefix,
            permissions=[p for p in PERMISSION_ORDER if p in granted],
            status=ManagementTokenStatus[state_of(CredentialKind.MANAGEMENT_TOKEN, row, utcnow()).name],
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            last_used_ip=row.last_used_ip,
            revoked_at=row.revoked_at,
            stale_since=row.stale_since,
            leaked_at=row.leaked_at,
            created_by=Actor.from_record(row.created_by_kind, row.created_by_id, row.created_by_label),
            pk=row.id,
            replaces_pk=row.replaces_id,  # type: ignore[attr-defined]
        )


@strawberry.type
class StaleTokenEntry:
    token: ManagementToken
    reason: StaleReason
    last_used_at: datetime | None
    idle_days: int
    auto_revoked: bool


@strawberry.type
class StaleTokenReport(Node):
    id: strawberry.ID
    generated_at: datetime
    stale_after_days: int
    pk: strawberry.Private[int]

    @strawberry.field
    async def entries(self, info: Info[Context, Any]) -> list[StaleTokenEntry]:
        rows = await stale_reports.entries_of(info.context.principal, self.pk)
        return [
            StaleTokenEntry(
                token=ManagementToken.from_model(row.token),
                reason=StaleReason(row.reason),
                last_used_at=row.last_used_at,
                idle_days=row.idle_days,
                auto_revoked=row.auto_revoked,
            )
            for row in rows
        ]

    @classmethod
    def from_model(cls, row: StaleTokenReportRecord) -> "StaleTokenReport":
        return cls(
            id=to_global_id("StaleTokenReport", row.id),
            generated_at=row.generated_at,
            stale_after_days=row.stale_after_days,
            pk=row.id,
        )
