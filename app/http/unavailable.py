"""The answer to a request the database could not serve: JSON 503 UNAVAILABLE with Retry-After.

`app.http.envelope` answers with it around the whole app. Without that, a database error escaping
an endpoint became Starlette's plain-text 500, uvicorn logged a full traceback for every request,
and because the exception escaped after the 500 was sent, uvicorn then closed the keep-alive
connection without `Connection: close`, so clients reusing it failed at the transport level. The
envelope answers instead, so the exchange ends normally and the connection stays usable.
"""

import orjson
from starlette.responses import Response

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
