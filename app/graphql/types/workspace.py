from typing import Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.enums import ActorKindEnum, PermissionEnum, SignUpPolicyEnum, WorkspaceRoleEnum
from app.graphql.ids import to_global_id
from app.graphql.types.common import Node, node_id
from app.security.permissions import PERMISSION_ORDER
from app.security.principal import Principal
from app.services import signup_policy, workspaces
from app.services.records import WorkspaceRecord


@strawberry.type(description="Where projects, keys, tokens and people belong; every ID is scoped to one.")
class Workspace(Node):
    id: strawberry.ID = node_id()
    name: str = strawberry.field(description="Shown in the console.")
    stale_after_days: int = strawberry.field(description="A token unused this long is stale (default 90).")
    auto_revoke_stale_after_days: int | None = strawberry.field(description="null: never revoke automatically.")
    revoke_leaked_credentials: bool = strawberry.field(
        description="Credentials reported leaked (POST /v1/leaks) are revoked when true (the default), only flagged "
        "(leakedAt) when false."
    )
    max_token_lifetime_days: int | None = strawberry.field(
        description="When set, new management tokens and API keys must have an expiresAt at most this many days "
        "ahead; null: no limit (tokens need not expire)."
    )

    @classmethod
    def from_model(cls, row: WorkspaceRecord) -> "Workspace":
        return cls(
            id=to_global_id("Workspace", row.id),
            name=row.name,
            stale_after_days=row.stale_after_days,
            auto_revoke_stale_after_days=row.auto_revoke_stale_after_days,
            revoke_leaked_credentials=row.revoke_leaked_credentials,
            max_token_lifetime_days=row.max_token_lifetime_days,
        )


@strawberry.type(description="The caller: a signed-in person or a management token.")
class Viewer:
    kind: ActorKindEnum = strawberry.field(description="USER or MANAGEMENT_TOKEN")  # type: ignore[valid-type]
    permissions: list[PermissionEnum] = strawberry.field(description="What the caller may do right now.")  # type: ignore[valid-type]
    role: WorkspaceRoleEnum | None = strawberry.field(description="null for a management token")  # type: ignore[valid-type]
    email: str | None = strawberry.field(description="null for a management token")
    principal: strawberry.Private[Principal]

    @strawberry.field(description="The caller's workspace.")
    async def workspace(self) -> Workspace:
        return Workspace.from_model(await workspaces.get_workspace(self.principal))

    @strawberry.field(description="Every workspace the person belongs to (a management token: its own).")
    async def workspaces(self) -> list[Workspace]:
        return [Workspace.from_model(row) for row in await workspaces.workspaces_of(self.principal)]

    @strawberry.field(
        description="The IDs of the projects a management token is limited to (its scope; what `createApiKey` "
        "takes); null: every project of the workspace, and always null for a person. A scope whose projects were "
        "all deleted is [], never null."
    )
    async def project_ids(self, info: Info[Context, Any]) -> list[strawberry.ID] | None:
        scope = self.principal.project_ids
        if scope is None:
            return None
        rows = await info.context.project_loader.load_many(sorted(scope))
        return [strawberry.ID(to_global_id("Project", row.id)) for row in rows if row is not None]

    @strawberry.field(description="Who may sign up on this server (KEYWARD_SIGNUP).")
    def sign_up_policy(self) -> SignUpPolicyEnum:  # type: ignore[valid-type]
        return signup_policy.current_policy()

    @classmethod
    def of(cls, principal: Principal) -> "Viewer":
        return cls(
            kind=ActorKindEnum[principal.kind.value],
            permissions=[p for p in PERMISSION_ORDER if p in principal.permissions],
            role=principal.role,
            email=principal.email,
            principal=principal,
        )
