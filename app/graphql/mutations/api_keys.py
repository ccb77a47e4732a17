from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import requires_permission
from app.graphql.ids import require_pk, to_global_id
from app.graphql.mutations.projects import DeleteInput, DeletePayload
from app.graphql.payloads import run_mutation
from app.graphql.types.common import ALLOWED_IPS_DESCRIPTION, UserError, user_errors
from app.graphql.types.projects import ApiKey
from app.security.permissions import Permission
from app.services import api_keys


@strawberry.input(description="A new API key.")
class CreateApiKeyInput:
    project_id: strawberry.ID = strawberry.field(description="The Project the key belongs to.")
    name: str = strawberry.field(description="1 to 100 characters.")
    allowed_ips: list[str] | None = strawberry.field(default=None, description=ALLOWED_IPS_DESCRIPTION)
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When verify starts refusing the key (in the future); null: never, unless the workspace's "
        "maxTokenLifetimeDays requires an expiry.",
    )
    meta: JSON | None = strawberry.field(
        default=None, description="A JSON object of at most 4 KB (encoded) that verify returns with the key."
    )


@strawberry.input(description="The API key to replace.")
class RotateApiKeyInput:
    id: strawberry.ID = strawberry.field(description="The ApiKey (not expired).")
    old_key_expires_at: datetime | None = strawberry.field(
        default=None,
        description="When the old key stops working: now, or within the next 30 days. null: it keeps working until "
        "it is deleted or expires.",
    )


@strawberry.type(description="The key, and its value: returned here once and never again.")
class CreateApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(default=None, description="The key; null when refused.")
    secret: str | None = strawberry.field(
        default=None, description="The key value: returned here once and never again."
    )
    user_errors: list[UserError] = user_errors()


def _created(created: api_keys.CreatedApiKey) -> dict[str, Any]:
    return {"api_key": ApiKey.from_model(created.api_key), "secret": created.secret}


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(
        extensions=requires_permission(Permission.CREATE_API_KEY),
        description="Creates an API key in a project; its value is in the payload, once.",
    )
    async def create_api_key(
        self,
        info: Info[Context, Any],
        input: Annotated[CreateApiKeyInput, strawberry.argument(description="The project and the key's name.")],
    ) -> CreateApiKeyPayload:
        return await run_mutation(
            CreateApiKeyPayload,
            lambda: api_keys.create_api_key(
                info.context.principal,
                require_pk(input.project_id, "Project", "Project", ("projectId",)),
                input.name,
                allowed_ips=input.allowed_ips,
                expires_at=input.expires_at,
                meta=input.meta,
            ),
            _created,
        )

    @strawberry.mutation(
        extensions=requires_permission(Permission.CREATE_API_KEY),
        description="Creates a replacement with the same name, project, meta and allowlist; its value is in the "
        "payload, once. The old key keeps working until oldKeyExpiresAt (or until deleted).",
    )
    async def rotate_api_key(
        self,
        info: Info[Context, Any],
        input: Annotated[
            RotateApiKeyInput, strawberry.argument(description="The key to replace, and when the old one stops.")
        ],
    ) -> CreateApiKeyPayload:
        return await run_mutation(
            CreateApiKeyPayload,
            lambda: api_keys.rotate_api_key(
                info.context.principal, require_pk(input.id, "ApiKey", "API key"), input.old_key_expires_at
            ),
            _created,
        )

    @strawberry.mutation(
        extensions=requires_permission(Permission.DELETE_API_KEYS),
        description="Deletes an API key: verifications of it fail from now on.",
    )
    async def delete_api_key(
        self,
        info: Info[Context, Any],
        input: Annotated[DeleteInput, strawberry.argument(description="The ApiKey to delete.")],
    ) -> DeletePayload:
        return await run_mutation(
            DeletePayload,
            lambda: api_keys.delete_api_key(info.context.principal, require_pk(input.id, "ApiKey", "API key")),
            lambda pk: {"deleted_id": to_global_id("ApiKey", pk)},
        )
