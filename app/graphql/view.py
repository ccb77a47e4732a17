"""Strawberry's ASGI view with Keyward's context (the principal the middleware authenticated), speaking
GraphQL over HTTP as its specification says.

- Every refusal is a GraphQL-shaped JSON answer: strawberry answers a bad request (malformed JSON,
  wrong content type, no query) in plain text, and a JSON body that is not an object (``1``,
  ``null``, a string, invalid UTF-8) made it fail with a 500. One operation per request: a JSON
  array (batching) is refused with 400.
- ``Accept: application/graphql-response+json`` is answered with that media type, and then a
  request that never ran (a document that does not parse or validate, variables that do not
  coerce) gets 400 and no ``data`` entry. Clients that ask for ``application/json`` (or nothing)
  keep 200 with ``"data": null``. See ``app.graphql.media_types``.
- A mutation sent with GET is refused with 405 and ``Allow: POST`` before it runs.
- The database not answering: an operation left with no data because of it (nothing resolved, or
  a non-null field failed and nulled everything) is a 503 with ``Retry-After`` and one UNAVAILABLE
  error, the same answer as every other endpoint's (``app.http.unavailable``). When data survives
  (a nullable field failed beside fields that resolved), the answer stays a 200 with that data and
  UNAVAILABLE errors at the failed paths (plus ``Retry-After``): the data is real and must not be
  thrown away, and GraphQL over HTTP requires a 2xx whenever ``data`` is present.
- GET with ``Accept: text/html`` is the GraphiQL page (``app.http.graphiql``), unless
  introspection is off.
"""

from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.http.types import QueryParams
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from app.graphql import request_json
from app.graphql.context import Context, principal_of
from app.graphql.errors import has_code
from app.graphql.media_types import GRAPHQL_RESPONSE_JSON, response_media_type
from app.http.graphiql import graphiql_page
from app.http.unavailable import CODE as UNAVAILABLE
from app.http.unavailable import MESSAGE as UNAVAILABLE_MESSAGE
from app.http.unavailable import RETRY_AFTER

BATCHING_REFUSED = "Batched operations are not supported: send one operation per request."
NOT_AN_OBJECT = 'The request body must be a JSON object: {"query": "...", "variables": {...}}.'
MUTATION_OVER_GET = "Mutations are not allowed over GET: send them with POST."

ERROR_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 503: UNAVAILABLE}


class MethodNotAllowed(HTTPException):
    """A mutation sent with GET (the specification's 405: only POST may change anything)."""

    allow = "POST"


def error_response(
    message: str, status_code: int = 400, *, media_type: str = "application/json", headers: dict[str, str] | None = None
) -> Response:
    """A request error as a GraphQL response: ``errors`` with a code; ``"data": null`` for
    ``application/json`` clients, no ``data`` entry for ``application/graphql-response+json``."""
    error = {"message": message, "extensions": {"code": ERROR_CODES.get(status_code, "BAD_REQUEST")}}
    if media_type == GRAPHQL_RESPONSE_JSON:
        body: dict[str, Any] = {"errors": [error]}
        media_type = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
    else:
        body = {"data": None, "errors": [error]}
    return Response(orjson.dumps(body), status_code=status_code, media_type=media_type, headers=headers)


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing ran: no data and no error at a field's path (parse, validation, variable coercion)."""
    return result.data is None and bool(result.errors) and all(error.path is None for error in result.errors or ())


def nothing_resolved(result: ExecutionResult) -> bool:
    return result.data is None or all(value is None for value in result.data.values())


def request_error_status(errors: list[GraphQLError]) -> int:
    internal = any((error.extensions or {}).get("code") == "INTERNAL_SERVER_ERROR" for error in errors)
    return 500 if internal else 400


class KeywardGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            principal=principal_of(request),
        )

    async def get_root_value(self, request: Any) -> None:
        return None

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        """The response being built, with the media type this client asked for."""
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        return sub_response

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_page()

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        """One operation per request, as a JSON object; everything else is a clean 400."""
        try:
            value = request_json.loads(data)
        except orjson.JSONDecodeError:  # also invalid UTF-8
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        if isinstance(value, list):
            raise HTTPException(400, BATCHING_REFUSED)
        if not isinstance(value, dict):
            raise HTTPException(400, NOT_AN_OBJECT)
        return value

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Strawberry's request data, with `operationName` held to what `query` and `variables` are: a string
        or null (else it named an operation after the value's Python rendering, `Unknown operation named "True"`)."""
        data = await super().parse_http_body(request)
        for operation in data if isinstance(data, list) else [data]:
            if not isinstance(operation.operation_name, str | None):
                raise HTTPException(
                    400, "The GraphQL operation's `operationName` must be a string or null, if provided."
                )
        return data

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        """GET's `variables` and `extensions` are JSON values, not a request body: they skip the body's
        checks (`decode_json`, which called a list batching), and strawberry then says of one that is
        not an object that it must be one."""
        parsed: dict[str, Any] = dict(params)
        for name in ("variables", "extensions"):
            if parsed.get(name):
                try:
                    parsed[name] = request_json.loads(parsed[name])
                except orjson.JSONDecodeError:
                    raise HTTPException(400, f"The `{name}` parameter is not JSON.") from None
        return parsed

    async def execute_single(  # noqa: PLR0917 - strawberry's signature
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError) and request_adapter.method == "GET":
                raise MethodNotAllowed(405, MUTATION_OVER_GET) from exc.__cause__
            raise
        if any(has_code(error, UNAVAILABLE) for error in result.errors or []):
            sub_response.headers.update(RETRY_AFTER)
            if nothing_resolved(result):
                sub_response.status_code = 503
                unavailable = GraphQLError(UNAVAILABLE_MESSAGE, extensions={"code": UNAVAILABLE})
                return ExecutionResult(data=None, errors=[unavailable], extensions=result.extensions)
        if sub_response.media_type == GRAPHQL_RESPONSE_JSON and is_request_error(result):
            sub_response.status_code = request_error_status(result.errors or [])
        return result

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        body = process_result(result)
        if is_request_error(result) and response_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE_JSON:
            body.pop("data", None)
        return body

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type == GRAPHQL_RESPONSE_JSON:
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
        return response

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            if isinstance(request, WebSocket):
                raise
            headers = {"Allow": exc.allow} if isinstance(exc, MethodNotAllowed) else None
            media_type = response_media_type(request.headers.get("accept"))
            return error_response(exc.reason, exc.status_code, media_type=media_type, headers=headers)
