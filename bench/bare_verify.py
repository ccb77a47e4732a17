"""The baseline of the verify rows: a bare Starlette route that parses the same JSON and answers a fixed body.

`POST /v1/keys/verify` reads the body, parses it with orjson, checks that it holds a string `key`
and answers a valid-looking JSON of the same shape as Keyward's, served by uvicorn with the same
flags. No token parsing, no hashing, no Redis, no database: what Starlette + uvicorn + the JSON
cost by themselves on this machine. `/readyz` exists so the harness starts it like the real app.
"""

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ANSWER = orjson.dumps(
    {"valid": True, "keyId": "QXBpS2V5OjE=", "projectId": "UHJvamVjdDox", "workspaceId": "V29ya3NwYWNlOjE="}
)


async def verify(request: Request) -> Response:
    payload = orjson.loads(await request.body())
    if not isinstance(payload, dict) or not isinstance(payload.get("key"), str):
        return Response(b'{"valid": false, "code": "BAD_REQUEST"}', status_code=400, media_type="application/json")
    return Response(ANSWER, media_type="application/json")


async def readyz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app() -> Starlette:
    return Starlette(routes=[Route("/readyz", readyz), Route("/v1/keys/verify", verify, methods=["POST"])])
