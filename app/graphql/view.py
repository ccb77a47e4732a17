"""Strawberry's ASGI view with Keyward's context: the principal the middleware authenticated."""

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from app.graphql.context import Context, principal_of


class KeywardGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            principal=principal_of(request),
        )

    async def get_root_value(self, request: Any) -> None:
        return None
