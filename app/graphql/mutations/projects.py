from typing import Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import requires_permission
from app.graphql.errors import with_user_errors
from app.graphql.ids import pk_of, to_global_id
from app.graphql.types.common import UserError
from app.graphql.types.projects import Project
from app.security.permissions import Permission
from app.services import projects


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


@strawberry.type
class ProjectMutations:
    @strawberry.mutation(extensions=requires_permission(Permission.MANAGE_PROJECTS))
    async def create_project(self, info: Info[Context, Any], input: CreateProjectInput) -> ProjectPayload:
        async def work() -> dict[str, Any]:
            row = await projects.create_project(info.context.principal, input.name, input.description)
            return {"project": Project.from_model(row)}

        return await with_user_errors(ProjectPayload, work)

    @strawberry.mutation(extensions=requires_permission(Permission.MANAGE_PROJECTS))
    async def update_project(self, info: Info[Context, Any], input: UpdateProjectInput) -> ProjectPayload:
        async def work() -> dict[str, Any]:
            name = input.name if input.name is not strawberry.UNSET else None
            set_description = input.description is not strawberry.UNSET
            row = await projects.update_project(
                info.context.principal,
                pk_of(input.id, "Project"),
                name,
                input.description if set_description else None,
                set_description=set_description,
            )
            return {"project": Project.from_model(row)}

        return await with_user_errors(ProjectPayload, work)

    @strawberry.mutation(
        extensions=requires_permission(Permission.MANAGE_PROJECTS),
        description="Deletes the project and every API key in it (each is recorded in the audit log).",
    )
    async def delete_project(self, info: Info[Context, Any], input: DeleteInput) -> DeletePayload:
        async def work() -> dict[str, Any]:
            pk = await projects.delete_project(info.context.principal, pk_of(input.id, "Project"))
            return {"deleted_id": to_global_id("Project", pk)}

        return await with_user_errors(DeletePayload, work)
