"""One route answered straight from the envelope, past Starlette's exception middleware and router.

`POST /v1/keys/verify` is what every data-plane request calls; the ASGI endpoint answers it by
itself (`app.http.verify`). Starlette's `ExceptionMiddleware` (which maps `HTTPException`, which
verify never raises) and the router's scan of the routes cost it about an eighth of its CPU. The
route also stays in the app's route list: other methods get the router's 405, the path with a
trailing slash its redirect, and the metrics and the OpenAPI document their template, as before.
Inside the envelope, so the answer carries the request id and security headers, the body is bounded,
a database outage becomes the 503, and the request is counted, as on every other route; inside
Starlette's `ServerErrorMiddleware`, so an error escaping it is a 500 like any other.
"""

from starlette._utils import get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send


class DirectRoute:
    def __init__(self, app: ASGIApp, *, method: str, path: str, endpoint: ASGIApp) -> None:
        self.app = app
        self.method = method
        self.path = path
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == self.method and get_route_path(scope) == self.path:
            await self.endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)
