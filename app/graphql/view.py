"""Strawberry's ASGI view with Keyward's context: the principal the middleware authenticated.

It also makes every refusal a GraphQL-shaped JSON answer: strawberry answers a bad request
(malformed JSON, wrong content type, no query) in plain text, and a JSON body that is not an
object (``1``, ``null``, a string, invalid UTF-8) made it fail with a 500.
"""

from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types.unset import UNSET

from app.graphql.context import Context, principal_of

BATCHING_REFUSED = "Batched operations are not supported: send one operation per request."
NOT_AN_OBJECT = 'The request body must be a JSON object: {"query": "...", "variables": {...}}.'


def bad_request(message: str, status_code: int = 400, code: str = "BAD_REQUEST") -> Response:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


class KeywardGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            principal=principal_of(request),
        )

    async def get_root_value(self, request: Any) -> None:
        return None

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        """One operation per request, as a JSON object; everything else is a clean 400."""
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:  # also invalid UTF-8
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        if isinstance(value, list):
            raise HTTPException(400, BATCHING_REFUSED)
        if not isinstance(value, dict):
            raise HTTPException(400, NOT_AN_OBJECT)
        return value

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            if isinstance(request, WebSocket):
                raise
            return bad_request(exc.reason, exc.status_code)
