from typing import Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import requires_permission
from app.graphql.ids import require_pk, to_global_id
from app.graphql.payloads import run_mutation
from app.graphql.types.common import UserError
from app.graphql.types.projects import Project
from app.security.permissions import Permission
from app.services import projects
from app.services.records import ProjectRecord


@strawberry.input
class CreateProjectInput:
    name: str
    description: str | None = None


@strawberry.input
class UpdateProjectInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="null clears the description; leave it out to keep it."
    )


@strawberry.input
class DeleteInput:
    id: strawberry.ID


@strawberry.type
class ProjectPayload:
    project: Project | None = None
    user_errors: list[UserError]


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID | None = None
    user_errors: list[UserError]


def _project_pk(value: strawberry.ID) -> int:
    return require_pk(value, "Project", "Project")


def _project(row: ProjectRecord) -> dict[str, Any]:
    return {"project": Project.from_model(row)}


@strawberry.type
class ProjectMutations:
    @strawberry.mutation(extensions=requires_permission(Permission.MANAGE_PROJECTS))
    async def create_project(self, info: Info[Context, Any], input: CreateProjectInput) -> ProjectPayload:
        return await run_mutation(
            ProjectPayload,
            lambda: projects.create_project(info.context.principal, input.name, input.description),
            _project,
        )

    @strawberry.mutation(extensions=requires_permission(Permission.MANAGE_PROJECTS))
    async def update_project(self, info: Info[Context, Any], input: UpdateProjectInput) -> ProjectPayload:
        name = input.name if input.name is not strawberry.UNSET else None
        set_description = input.description is not strawberry.UNSET
        return await run_mutation(
            ProjectPayload,
            lambda: projects.update_project(
                info.context.principal,
                _project_pk(input.id),
                name,
                input.description if set_description else None,
                set_description=set_description,
            ),
            _project,
        )

    @strawberry.mutation(
        extensions=requires_permission(Permission.MANAGE_PROJECTS),
        description="Deletes the project and every API key in it (each is recorded in the audit log).",
    )
    async def delete_project(self, info: Info[Context, Any], input: DeleteInput) -> DeletePayload:
        return await run_mutation(
            DeletePayload,
            lambda: projects.delete_project(info.context.principal, _project_pk(input.id)),
            lambda pk: {"deleted_id": to_global_id("Project", pk)},
        )
