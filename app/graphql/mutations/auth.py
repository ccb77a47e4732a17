"""signUp, logIn, logOut: the public entry points, and the only ones that hand out session tokens."""

from typing import Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import require_signed_in
from app.graphql.payloads import run_mutation
from app.graphql.types.common import UserError
from app.graphql.types.workspace import Viewer
from app.services import accounts


@strawberry.input
class SignUpInput:
    email: str
    password: str
    workspace_name: str


@strawberry.input
class LogInInput:
    email: str
    password: str


@strawberry.type
class AuthPayload:
    session_token: str | None = strawberry.field(default=None, description="Send as `Authorization: Bearer …`.")
    viewer: Viewer | None = None
    user_errors: list[UserError]


@strawberry.type
class LogOutPayload:
    ok: bool


def _client_ip(info: Info[Context, Any]) -> str | None:
    client = info.context.request.client
    return info.context.principal.ip_address or (client.host if client else None)


def _signed_in(result: accounts.SignedIn) -> dict[str, Any]:
    return {"session_token": result.session_token, "viewer": Viewer.of(result.principal)}


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="Public: creates a person, a workspace, and the OWNER membership.")
    async def sign_up(self, info: Info[Context, Any], input: SignUpInput) -> AuthPayload:
        return await run_mutation(
            AuthPayload,
            lambda: accounts.sign_up(input.email, input.password, input.workspace_name, _client_ip(info)),
            _signed_in,
        )

    @strawberry.mutation(description="Public.")
    async def log_in(self, info: Info[Context, Any], input: LogInInput) -> AuthPayload:
        return await run_mutation(
            AuthPayload, lambda: accounts.log_in(input.email, input.password, _client_ip(info)), _signed_in
        )

    @strawberry.mutation(description="Ends the calling session at once.")
    async def log_out(self, info: Info[Context, Any]) -> LogOutPayload:
        return LogOutPayload(ok=await accounts.log_out(require_signed_in(info)))
