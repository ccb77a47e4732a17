"""signUp, logIn, logOut: the public entry points, and the only ones that hand out session tokens."""

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.graphql.context import Context
from app.graphql.directives import require_signed_in
from app.graphql.payloads import run_mutation
from app.graphql.types.common import UserError, user_errors
from app.graphql.types.workspace import Viewer
from app.http.authentication import client_ip
from app.services import accounts


@strawberry.input(description="A new account and its workspace.")
class SignUpInput:
    email: str = strawberry.field(description="The account's email; one account per address.")
    password: str = strawberry.field(description="At least 12 characters, not easy to guess.")
    workspace_name: str = strawberry.field(description="The new workspace's name.")


@strawberry.input(description="An account's email and password.")
class LogInInput:
    email: str = strawberry.field(description="The account's email.")
    password: str = strawberry.field(description="The account's password.")


@strawberry.type(description="A new session, or why there is none.")
class AuthPayload:
    session_token: str | None = strawberry.field(default=None, description="Send as `Authorization: Bearer …`.")
    viewer: Viewer | None = strawberry.field(default=None, description="Who is signed in; null when refused.")
    user_errors: list[UserError] = user_errors()


@strawberry.type(description="Whether a session ended.")
class LogOutPayload:
    ok: bool = strawberry.field(description="true: the calling session ended; false: it was not a session.")


def caller_ip(info: Info[Context, Any]) -> str | None:
    return client_ip(info.context.request)


def signed_in_payload(result: accounts.SignedIn) -> dict[str, Any]:
    return {"session_token": result.session_token, "viewer": Viewer.of(result.principal)}


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="Public: creates a person, a workspace, and the OWNER membership.")
    async def sign_up(
        self,
        info: Info[Context, Any],
        input: Annotated[SignUpInput, strawberry.argument(description="The account and its workspace.")],
    ) -> AuthPayload:
        return await run_mutation(
            AuthPayload,
            lambda: accounts.sign_up(input.email, input.password, input.workspace_name, caller_ip(info)),
            signed_in_payload,
        )

    @strawberry.mutation(description="Public.")
    async def log_in(
        self,
        info: Info[Context, Any],
        input: Annotated[LogInInput, strawberry.argument(description="The email and password.")],
    ) -> AuthPayload:
        return await run_mutation(
            AuthPayload, lambda: accounts.log_in(input.email, input.password, caller_ip(info)), signed_in_payload
        )

    @strawberry.mutation(description="Ends the calling session at once.")
    async def log_out(self, info: Info[Context, Any]) -> LogOutPayload:
        return LogOutPayload(ok=await accounts.log_out(require_signed_in(info)))
