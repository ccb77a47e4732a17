"""The answer to a request the database could not serve: JSON 503 UNAVAILABLE with Retry-After.

`DatabaseOutageGuard` wraps the whole app. Without it, a database error escaping an endpoint
became Starlette's plain-text 500, uvicorn logged a full traceback for every request, and because
the exception escaped after the 500 was sent, uvicorn then closed the keep-alive connection
without `Connection: close`, so clients reusing it failed at the transport level. The guard
answers instead, so the exchange ends normally and the connection stays usable.
"""

import orjson
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db_errors import is_database_unavailable
from app.db_outage import DatabaseOutage
from app.graphql.media_types import GRAPHQL_RESPONSE_JSON, response_media_type

CODE = "UNAVAILABLE"
MESSAGE = "The database is not answering: try again in a few seconds."
# Recovery is noticed within a second of the database answering again (app.db_outage).
RETRY_AFTER_SECONDS = 5
RETRY_AFTER = {"Retry-After": str(RETRY_AFTER_SECONDS)}


def unavailable_error() -> dict[str, object]:
    return {"message": MESSAGE, "extensions": {"code": CODE}}


def unavailable_response(accept: str | None = None) -> Response:
    """`{"data": null, "errors": [...]}`, like every request error; a GraphQL client that asked for
    `application/graphql-response+json` gets that media type and no `data` entry (`app.graphql.view`)."""
    if response_media_type(accept) == GRAPHQL_RESPONSE_JSON:
        body: dict[str, object] = {"errors": [unavailable_error()]}
        media_type = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
    else:
        body = {"data": None, "errors": [unavailable_error()]}
        media_type = "application/json"
    return Response(orjson.dumps(body), status_code=503, media_type=media_type, headers=RETRY_AFTER)


class DatabaseOutageGuard:
    def __init__(self, app: ASGIApp, outage: DatabaseOutage) -> None:
        self.app = app
        self.outage = outage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.outage.watch_for_recovery()
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            if started or not is_database_unavailable(error):
                raise
            self.outage.failed(error)
            accept = Headers(scope=scope).get("accept")
            await unavailable_response(accept)(scope, receive, send)
