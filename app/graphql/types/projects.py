"""Project and ApiKey: one module, since each refers to the other."""

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from app.clock import utcnow
from app.graphql.context import Context
from app.graphql.directives import requires_permission
from app.graphql.enums import ApiKeyStatus
from app.graphql.ids import to_global_id
from app.graphql.types.common import Actor, After, Connection, First, Node, node_id, to_connection
from app.security.ip_allowlist import entries_of
from app.security.permissions import Permission
from app.services import api_keys as api_key_service
from app.services.credential_state import CredentialKind, state_of
from app.services.key_meta import parsed_meta
from app.services.projects import ProjectRow
from app.services.records import ApiKeyRecord, ProjectRecord


@strawberry.type(description="A group of API keys, e.g. one service or one environment.")
class Project(Node):
    id: strawberry.ID = node_id()
    name: str = strawberry.field(description="Shown in the console; need not be unique.")
    description: str | None = strawberry.field(description="A note for people; null when none.")
    created_at: datetime = strawberry.field(description="When the project was created.")
    updated_at: datetime = strawberry.field(description="When its name or description last changed.")
    pk: strawberry.Private[int]

    @strawberry.field(
        extensions=requires_permission(Permission.VIEW_API_KEYS), description="The project's API keys, newest first."
    )
    async def api_keys(
        self, info: Info[Context, Any], first: First = None, after: After = None
    ) -> Connection["ApiKey"]:
        page = await api_key_service.list_project_api_keys(info.context.principal, self.pk, first, after)
        return to_connection(page, ApiKey.from_model)

    @classmethod
    def from_model(cls, row: ProjectRecord | ProjectRow) -> "Project":
        return cls(
            id=to_global_id("Project", row.id),
            name=row.name,
            description=row.description,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
        )


@strawberry.type(description="A data-plane key (kwk_) of one project; data-plane services check it at /v1/keys/verify.")
class ApiKey(Node):
    id: strawberry.ID = node_id()
    name: str = strawberry.field(description="Shown in the console; need not be unique.")
    key_prefix: str = strawberry.field(description="Enough of the key to recognise it; never the whole key.")
    created_at: datetime = strawberry.field(description="When the key was created.")
    last_used_at: datetime | None = strawberry.field(
        description="The newest verification, within a flush interval (about 10 s); null if never used."
    )
    leaked_at: datetime | None = strawberry.field(
        description="When the key was reported leaked while the workspace only flags leaks; null if never."
    )
    allowed_ips: list[str] = strawberry.field(
        description="Addresses and CIDR ranges the key may be verified from, normalised; []: any address."
    )
    status: ApiKeyStatus = strawberry.field(description="Whether verify accepts the key.")
    expires_at: datetime | None = strawberry.field(
        description='From this time on verify refuses the key (code "EXPIRED"); null: never expires.'
    )
    meta: JSON | None = strawberry.field(
        description="A JSON object (at most 4 KB) that verify returns with the key: plan, owner, limits."
    )
    created_by: Actor = strawberry.field(description="Who created the key.")
    project_pk: strawberry.Private[int]

    @strawberry.field(
        extensions=requires_permission(Permission.VIEW_PROJECTS), description="The project the key belongs to."
    )
    async def project(self, info: Info[Context, Any]) -> Project | None:
        row = await info.context.project_loader.load(self.project_pk)
        return Project.from_model(row) if row else None

    @classmethod
    def from_model(cls, row: ApiKeyRecord) -> "ApiKey":
        return cls(
            id=to_global_id("ApiKey", row.id),
            name=row.name,
            key_prefix=row.key_prefix,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            leaked_at=row.leaked_at,
            allowed_ips=entries_of(row.allowed_ips),
            status=ApiKeyStatus[state_of(CredentialKind.API_KEY, row, utcnow()).name],
            expires_at=row.expires_at,
            meta=parsed_meta(row.meta),  # type: ignore[arg-type]
            created_by=Actor.from_record(row.created_by_kind, row.created_by_id, row.created_by_label),
            project_pk=row.project_id,  # type: ignore[attr-defined]
        )
