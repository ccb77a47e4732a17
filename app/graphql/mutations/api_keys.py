from typing import Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import requires_permission
from app.graphql.errors import with_user_errors
from app.graphql.ids import pk_of, to_global_id
from app.graphql.mutations.projects import DeleteInput, DeletePayload
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
        async def work() -> dict[str, Any]:
            created = await api_keys.create_api_key(
                info.context.principal, pk_of(input.project_id, "Project"), input.name
            )
            return {"api_key": ApiKey.from_model(created.api_key), "secret": created.secret}

        return await with_user_errors(CreateApiKeyPayload, work)

    @strawberry.mutation(extensions=requires_permission(Permission.DELETE_API_KEYS))
    async def delete_api_key(self, info: Info[Context, Any], input: DeleteInput) -> DeletePayload:
        async def work() -> dict[str, Any]:
            pk = await api_keys.delete_api_key(info.context.principal, pk_of(input.id, "ApiKey"))
            return {"deleted_id": to_global_id("ApiKey", pk)}

        return await with_user_errors(DeletePayload, work)
