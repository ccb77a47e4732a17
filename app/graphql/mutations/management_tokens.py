from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import requires_role
from app.graphql.enums import PermissionEnum
from app.graphql.ids import require_pk
from app.graphql.payloads import run_mutation
from app.graphql.types.common import ALLOWED_IPS_DESCRIPTION, UserError, user_errors
from app.graphql.types.tokens import ManagementToken
from app.security.permissions import WorkspaceRole
from app.services import management_tokens
from app.services.management_token_updates import TokenChanges, update_token


@strawberry.input(description="A new management token.")
class CreateManagementTokenInput:
    name: str = strawberry.field(description="1 to 100 characters, unique among the workspace's active tokens.")
    permissions: list[PermissionEnum] = strawberry.field(description="What it may do (at least one).")  # type: ignore[valid-type]
    allowed_ips: list[str] | None = strawberry.field(default=None, description=ALLOWED_IPS_DESCRIPTION)
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When requests with it start being refused (in the future); null: never, unless the "
        "workspace's maxTokenLifetimeDays requires an expiry.",
    )
    project_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Limit the token to these projects of the workspace (it sees and manages only them, and "
        "cannot create projects); null: every project, also those created later.",
    )


@strawberry.input(description="Changes to a management token; fields left out stay as they are.")
class UpdateManagementTokenInput:
    id: strawberry.ID = strawberry.field(description="The ManagementToken (active).")
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new name, unique among the workspace's active tokens."
    )
    permissions: list[PermissionEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=strawberry.UNSET, description="The new permissions (at least one); replaces the old ones."
    )
    allowed_ips: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="The new allowlist (replaces the old one); []: any address."
    )
    expires_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="An earlier expiry (in the future); extending or removing one is refused: rotate instead.",
    )


@strawberry.input(description="The token to revoke.")
class RevokeManagementTokenInput:
    id: strawberry.ID = strawberry.field(description="The ManagementToken.")


@strawberry.input(description="The token to replace.")
class RotateManagementTokenInput:
    id: strawberry.ID = strawberry.field(description="The ManagementToken (active, not rotated before).")
    name: str | None = strawberry.field(default=None, description="Defaults to the replaced token's name.")
    old_token_expires_at: datetime | None = strawberry.field(
        default=None,
        description="When the old token stops working: now, or within the next 30 days. null: it keeps working "
        "until it is revoked or expires.",
    )


@strawberry.type(description="The token, and its value: returned here once and never again.")
class CreateManagementTokenPayload:
    management_token: ManagementToken | None = strawberry.field(
        default=None, description="The token; null when refused."
    )
    secret: str | None = strawberry.field(
        default=None, description="The token value: returned here once and never again."
    )
    user_errors: list[UserError] = user_errors()


@strawberry.type(description="The token after the change.")
class ManagementTokenPayload:
    management_token: ManagementToken | None = strawberry.field(
        default=None, description="The token; null when refused."
    )
    user_errors: list[UserError] = user_errors()


def _token_pk(value: strawberry.ID) -> int:
    return require_pk(value, "ManagementToken", "Management token")


def _project_pks(values: list[strawberry.ID] | None) -> list[int] | None:
    if values is None:
        return None
    return [require_pk(value, "Project", "Project", ("projectIds", str(index))) for index, value in enumerate(values)]


def _created(result: management_tokens.CreatedToken) -> dict[str, Any]:
    return {"management_token": ManagementToken.from_model(result.token), "secret": result.secret}


def _given(value: Any) -> Any:
    """None for a field left out or given as null."""
    return None if value is strawberry.UNSET else value


def _changes(input: UpdateManagementTokenInput) -> TokenChanges:
    permissions = _given(input.permissions)
    return TokenChanges(
        name=_given(input.name),
        permissions=None if permissions is None else list(permissions),
        allowed_ips=_given(input.allowed_ips),
        expires_at=_given(input.expires_at),
        remove_expiry=input.expires_at is None,
    )


@strawberry.type
class ManagementTokenMutations:
    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="Creates a management token; its value is in the payload, once.",
    )
    async def create_management_token(
        self,
        info: Info[Context, Any],
        input: Annotated[
            CreateManagementTokenInput, strawberry.argument(description="The token's name and permissions.")
        ],
    ) -> CreateManagementTokenPayload:
        return await run_mutation(
            CreateManagementTokenPayload,
            lambda: management_tokens.create_token(
                info.context.principal,
                input.name,
                list(input.permissions),
                allowed_ips=input.allowed_ips,
                expires_at=input.expires_at,
                project_ids=_project_pks(input.project_ids),
            ),
            _created,
        )

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="Renames the token, changes its permissions or allowlist, or brings its expiry forward; "
        "every process applies the change from its next request.",
    )
    async def update_management_token(
        self,
        info: Info[Context, Any],
        input: Annotated[UpdateManagementTokenInput, strawberry.argument(description="The token and its changes.")],
    ) -> ManagementTokenPayload:
        return await run_mutation(
            ManagementTokenPayload,
            lambda: update_token(info.context.principal, _token_pk(input.id), _changes(input)),
            lambda row: {"management_token": ManagementToken.from_model(row)},
        )

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="Disables the token at once and for good; requests with it are refused from now on.",
    )
    async def revoke_management_token(
        self,
        info: Info[Context, Any],
        input: Annotated[RevokeManagementTokenInput, strawberry.argument(description="The token to revoke.")],
    ) -> ManagementTokenPayload:
        return await run_mutation(
            ManagementTokenPayload,
            lambda: management_tokens.revoke_token(info.context.principal, _token_pk(input.id)),
            lambda row: {"management_token": ManagementToken.from_model(row)},
        )

    @strawberry.mutation(
        extensions=requires_role(WorkspaceRole.ADMIN),
        description="Creates a replacement with the same permissions, allowlist and projects; the old token stays "
        "valid until oldTokenExpiresAt (or until revoked).",
    )
    async def rotate_management_token(
        self,
        info: Info[Context, Any],
        input: Annotated[
            RotateManagementTokenInput,
            strawberry.argument(description="The token to replace, and the replacement's name."),
        ],
    ) -> CreateManagementTokenPayload:
        return await run_mutation(
            CreateManagementTokenPayload,
            lambda: management_tokens.rotate_token(
                info.context.principal, _token_pk(input.id), input.name, input.old_token_expires_at
            ),
            _created,
        )
