"""ManagementToken and the stale-token report that lists them (and the API keys about to expire)."""

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from app.clock import utcnow
from app.graphql.context import Context
from app.graphql.enums import ManagementTokenStatus, PermissionEnum, StaleReason
from app.graphql.ids import to_global_id
from app.graphql.types.common import Actor, Node, node_id
from app.graphql.types.projects import ApiKey, Project
from app.security.ip_allowlist import entries_of
from app.security.permissions import PERMISSION_ORDER, decode_permissions
from app.security.project_scope import decode_scope
from app.services import stale_reports
from app.services.credential_state import CredentialKind, state_of
from app.services.records import ManagementTokenRecord, StaleTokenReportRecord


@strawberry.type(description="A workspace-scoped token (kwm_) for automation, with a subset of the five permissions.")
class ManagementToken(Node):
    id: strawberry.ID = node_id()
    name: str = strawberry.field(description="Unique among the workspace's active tokens.")
    key_prefix: str = strawberry.field(description="Enough of the token to recognise it; never the whole token.")
    permissions: list[PermissionEnum] = strawberry.field(description="What the token may do.")  # type: ignore[valid-type]
    status: ManagementTokenStatus = strawberry.field(description="Whether requests with the token are accepted.")
    created_at: datetime = strawberry.field(description="When the token was created.")
    last_used_at: datetime | None = strawberry.field(
        description="The newest request with the token, within a flush interval (about 10 s); null if never used."
    )
    last_used_ip: str | None = strawberry.field(description="The client IP of the newest use.")
    revoked_at: datetime | None = strawberry.field(description="When the token was revoked; null while active.")
    expires_at: datetime | None = strawberry.field(
        description="From this time on requests with the token are refused (status EXPIRED); null: never expires."
    )
    stale_since: datetime | None = strawberry.field(
        description="Set by the stale-token sweep; cleared when the token is used again."
    )
    leaked_at: datetime | None = strawberry.field(
        description="When the token was first reported leaked (POST /v1/leaks); null if never."
    )
    allowed_ips: list[str] = strawberry.field(
        description="Addresses and CIDR ranges the token may be used from, normalised; []: any address."
    )
    created_by: Actor = strawberry.field(description="Who created the token.")
    pk: strawberry.Private[int]
    replaces_pk: strawberry.Private[int | None]
    project_pks: strawberry.Private[frozenset[int] | None]

    @strawberry.field(
        description="The projects the token is limited to; null: every project of the workspace (a scope whose "
        "projects were all deleted is [], never null)."
    )
    async def projects(self, info: Info[Context, Any]) -> list[Project] | None:
        if self.project_pks is None:
            return None
        rows = await info.context.project_loader.load_many(sorted(self.project_pks))
        return [Project.from_model(row) for row in rows if row is not None]

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
            expires_at=row.expires_at,
            stale_since=row.stale_since,
            leaked_at=row.leaked_at,
            allowed_ips=entries_of(row.allowed_ips),
            created_by=Actor.from_record(row.created_by_kind, row.created_by_id, row.created_by_label),
            pk=row.id,
            replaces_pk=row.replaces_id,  # type: ignore[attr-defined]
            project_pks=decode_scope(row.project_ids),
        )


@strawberry.type(description="One stale token in a report.")
class StaleTokenEntry:
    token: ManagementToken = strawberry.field(description="The token as it is now.")
    reason: StaleReason = strawberry.field(description="Never used, not used lately, or expiring within 7 days.")
    last_used_at: datetime | None = strawberry.field(description="Its last use when the sweep judged it.")
    idle_days: int = strawberry.field(description="Whole days without use (never used: since creation).")
    auto_revoked: bool = strawberry.field(
        description="The sweep revoked it (the workspace's autoRevokeStaleAfterDays)."
    )


@strawberry.type(
    description="An API key that expires within 7 days, listed so the report warns before it stops working."
)
class ExpiringApiKeyEntry:
    api_key: ApiKey = strawberry.field(description="The key as it is now (the sweep never revokes it).")
    expires_at: datetime = strawberry.field(description="Its expiry when the sweep judged it.")
    last_used_at: datetime | None = strawberry.field(description="Its last use when the sweep judged it.")


@strawberry.type(description="What one run of the stale-token sweep found in the workspace.")
class StaleTokenReport(Node):
    id: strawberry.ID = node_id()
    generated_at: datetime = strawberry.field(description="The time the sweep judged the tokens at.")
    stale_after_days: int = strawberry.field(description="The workspace's staleAfterDays then.")
    pk: strawberry.Private[int]

    @strawberry.field(description="The stale tokens, the longest idle first.")
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

    @strawberry.field(
        description="The API keys active and expiring within 7 days when the sweep ran, the soonest first."
    )
    async def expiring_api_keys(self, info: Info[Context, Any]) -> list[ExpiringApiKeyEntry]:
        rows = await stale_reports.expiring_api_keys_of(info.context.principal, self.pk)
        return [
            ExpiringApiKeyEntry(
                api_key=ApiKey.from_model(row.api_key),
                expires_at=row.expires_at,
                last_used_at=row.last_used_at,
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
