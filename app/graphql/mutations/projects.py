from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import requires_permission
from app.graphql.ids import require_pk, to_global_id
from app.graphql.payloads import run_mutation
from app.graphql.types.common import UserError, user_errors
from app.graphql.types.projects import Project
from app.security.permissions import Permission
from app.services import projects
from app.services.records import ProjectRecord


@strawberry.input(description="A new project.")
class CreateProjectInput:
    name: str = strawberry.field(description="1 to 100 characters.")
    description: str | None = strawberry.field(default=None, description="A note for people; optional.")


@strawberry.input(description="Changes to a project; fields left out stay as they are.")
class UpdateProjectInput:
    id: strawberry.ID = strawberry.field(description="The Project.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="A new name.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="null clears the description; leave it out to keep it."
    )


@strawberry.input(description="One object, by its ID.")
class DeleteInput:
    id: strawberry.ID = strawberry.field(description="The object's global ID (its type is in the mutation's name).")


@strawberry.type(description="The project after the change.")
class ProjectPayload:
    project: Project | None = strawberry.field(default=None, description="The project; null when refused.")
    user_errors: list[UserError] = user_errors()


@strawberry.type(description="What was deleted.")
class DeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The ID of what was deleted; null when refused."
    )
    user_errors: list[UserError] = user_errors()


def _project_pk(value: strawberry.ID) -> int:
    return require_pk(value, "Project", "Project")


def _project(row: ProjectRecord) -> dict[str, Any]:
    return {"project": Project.from_model(row)}


@strawberry.type
class ProjectMutations:
    @strawberry.mutation(
        extensions=requires_permission(Permission.MANAGE_PROJECTS, workspace_wide=True),
        description="Creates a project (not with a management token limited to some projects).",
    )
    async def create_project(
        self,
        info: Info[Context, Any],
        input: Annotated[CreateProjectInput, strawberry.argument(description="The new project.")],
    ) -> ProjectPayload:
        return await run_mutation(
            ProjectPayload,
            lambda: projects.create_project(info.context.principal, input.name, input.description),
            _project,
        )

    @strawberry.mutation(
        extensions=requires_permission(Permission.MANAGE_PROJECTS), description="Renames a project or changes its note."
    )
    async def update_project(
        self,
        info: Info[Context, Any],
        input: Annotated[UpdateProjectInput, strawberry.argument(description="The project and what changes.")],
    ) -> ProjectPayload:
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
    async def delete_project(
        self,
        info: Info[Context, Any],
        input: Annotated[DeleteInput, strawberry.argument(description="The Project to delete.")],
    ) -> DeletePayload:
        return await run_mutation(
            DeletePayload,
            lambda: projects.delete_project(info.context.principal, _project_pk(input.id)),
            lambda pk: {"deleted_id": to_global_id("Project", pk)},
        )
