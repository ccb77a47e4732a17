"""Project and ApiKey: one module, since each refers to the other."""

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import requires_permission
from app.graphql.ids import to_global_id
from app.graphql.types.common import Actor, Connection, Node, to_connection
from app.security.permissions import Permission
from app.services import api_keys as api_key_service
from app.services.projects import ProjectRow
from app.services.records import ApiKeyRecord, ProjectRecord


@strawberry.type
class Project(Node):
    id: strawberry.ID
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]

    @strawberry.field(extensions=requires_permission(Permission.VIEW_API_KEYS))
    async def api_keys(
        self, info: Info[Context, Any], first: int | None = None, after: str | None = None
    ) -> Connection["ApiKey"]:
        page = await api_key_service.list_api_keys(info.context.principal, self.pk, first, after, filter_project=True)
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


@strawberry.type
class ApiKey(Node):
    id: strawberry.ID
    name: str
    key_prefix: str = strawberry.field(description="Enough of the key to recognise it; never the whole key.")
    created_at: datetime
    last_used_at: datetime | None
    leaked_at: datetime | None = strawberry.field(
        description="When the key was reported leaked while the workspace only flags leaks; null if never."
    )
    created_by: Actor
    project_pk: strawberry.Private[int]

    @strawberry.field(extensions=requires_permission(Permission.VIEW_PROJECTS))
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
            created_by=Actor.from_record(row.created_by_kind, row.created_by_id, row.created_by_label),
            project_pk=row.project_id,  # type: ignore[attr-defined]
        )
