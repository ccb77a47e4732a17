from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import requires_role
from app.graphql.enums import WorkspaceRoleEnum
from app.graphql.ids import to_global_id
from app.graphql.payloads import run_mutation
from app.graphql.types.common import UserError, user_errors
from app.graphql.types.workspace import Workspace
from app.security.permissions import WorkspaceRole
from app.services import workspaces


@strawberry.input(description="Changes to the workspace's settings; fields left out stay as they are.")
class WorkspaceSettingsInput:
    stale_after_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="A token unused this many days (1 to 3650) is stale."
    )
    auto_revoke_stale_after_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="null turns automatic revocation off; leave it out to keep it."
    )
    revoke_leaked_credentials: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Revoke (true) or only flag (false) credentials reported leaked."
    )


@strawberry.type(description="The workspace after the change.")
class WorkspacePayload:
    workspace: Workspace | None = strawberry.field(default=None, description="The workspace; null when refused.")
    user_errors: list[UserError] = user_errors()


@strawberry.input(description="A new person in the workspace.")
class AddMemberInput:
    email: str = strawberry.field(description="Their email; it must not have an account yet.")
    password: str = strawberry.field(description="The initial password; the person signs in with it.")
    role: WorkspaceRoleEnum = strawberry.field(description="Their role (OWNER only by an owner).")  # type: ignore[valid-type]


@strawberry.type(description="A person in the workspace.")
class Member:
    id: strawberry.ID = strawberry.field(description="The person's global ID (a User).")
    email: str = strawberry.field(description="Their email.")
    role: WorkspaceRoleEnum = strawberry.field(description="Their role in this workspace.")  # type: ignore[valid-type]


@strawberry.type(description="The person added.")
class AddMemberPayload:
    member: Member | None = strawberry.field(default=None, description="The new member; null when refused.")
    user_errors: list[UserError] = user_errors()


@strawberry.type
class WorkspaceMutations:
    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN), description="Changes the stale-token and leak settings."
    )
    async def update_workspace_settings(
        self,
        info: Info[Context, Any],
        input: Annotated[WorkspaceSettingsInput, strawberry.argument(description="The settings that change.")],
    ) -> WorkspacePayload:
        set_auto = input.auto_revoke_stale_after_days is not strawberry.UNSET
        stale_after = input.stale_after_days if input.stale_after_days is not strawberry.UNSET else None
        return await run_mutation(
            WorkspacePayload,
            lambda: workspaces.update_settings(
                info.context.principal,
                stale_after,
                input.auto_revoke_stale_after_days if set_auto else None,
                set_auto_revoke=set_auto,
                revoke_leaked_credentials=input.revoke_leaked_credentials
                if input.revoke_leaked_credentials not in (strawberry.UNSET, None)
                else None,
            ),
            lambda row: {"workspace": Workspace.from_model(row)},
        )

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="Creates a person's account in this workspace with the given role (OWNER only by an OWNER).",
    )
    async def add_member(
        self,
        info: Info[Context, Any],
        input: Annotated[
            AddMemberInput, strawberry.argument(description="The person's email, initial password and role.")
        ],
    ) -> AddMemberPayload:
        return await run_mutation(
            AddMemberPayload,
            lambda: workspaces.add_member(info.context.principal, input.email, input.password, input.role),
            lambda added: {
                "member": Member(id=to_global_id("User", added.user.id), email=added.user.email, role=added.role)
            },
        )
