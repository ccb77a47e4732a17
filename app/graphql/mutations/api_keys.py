from typing import Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import requires_permission
from app.graphql.ids import require_pk, to_global_id
from app.graphql.mutations.projects import DeleteInput, DeletePayload
from app.graphql.payloads import run_mutation
from app.graphql.types.common import UserError
from app.graphql.types.projects import ApiKey
from app.security.permissions import Permission
from app.services import api_keys


@strawberry.input
class CreateApiKeyInput:
    project_id: strawberry.ID
    name: str


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey | None = None
    secret: str | None = strawberry.field(
        default=None, description="The key value: returned here once and never again."
    )
    user_errors: list[UserError]


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(extensions=requires_permission(Permission.CREATE_API_KEY))
    async def create_api_key(self, info: Info[Context, Any], input: CreateApiKeyInput) -> CreateApiKeyPayload:
        return await run_mutation(
            CreateApiKeyPayload,
            lambda: api_keys.create_api_key(
                info.context.principal, require_pk(input.project_id, "Project", "Project", ("projectId",)), input.name
            ),
            lambda created: {"api_key": ApiKey.from_model(created.api_key), "secret": created.secret},
        )

    @strawberry.mutation(extensions=requires_permission(Permission.DELETE_API_KEYS))
    async def delete_api_key(self, info: Info[Context, Any], input: DeleteInput) -> DeletePayload:
        return await run_mutation(
            DeletePayload,
            lambda: api_keys.delete_api_key(info.context.principal, require_pk(input.id, "ApiKey", "API key")),
            lambda pk: {"deleted_id": to_global_id("ApiKey", pk)},
        )
