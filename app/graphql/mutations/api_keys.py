from typing import Annotated, Any

import strawberry
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


@strawberry.type(description="The key, and its value: returned here once and never again.")
class CreateApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(default=None, description="The key; null when refused.")
    secret: str | None = strawberry.field(
        default=None, description="The key value: returned here once and never again."
    )
    user_errors: list[UserError] = user_errors()


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
            ),
            lambda created: {"api_key": ApiKey.from_model(created.api_key), "secret": created.secret},
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
