from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import requires_role
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
    max_token_lifetime_days: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="New management tokens and API keys must expire within this many days (1 to 3650); null lifts "
        "the limit; leave it out to keep it.",
    )


@strawberry.type(description="The workspace after the change.")
class WorkspacePayload:
    workspace: Workspace | None = strawberry.field(default=None, description="The workspace; null when refused.")
    user_errors: list[UserError] = user_errors()


@strawberry.type
class WorkspaceMutations:
    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="Changes the stale-token, leak and token lifetime settings.",
    )
    async def update_workspace_settings(
        self,
        info: Info[Context, Any],
        input: Annotated[WorkspaceSettingsInput, strawberry.argument(description="The settings that change.")],
    ) -> WorkspacePayload:
        set_auto = input.auto_revoke_stale_after_days is not strawberry.UNSET
        set_lifetime = input.max_token_lifetime_days is not strawberry.UNSET
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
                max_token_lifetime_days=input.max_token_lifetime_days if set_lifetime else None,
                set_max_token_lifetime=set_lifetime,
            ),
            lambda row: {"workspace": Workspace.from_model(row)},
        )
