"""One ASGI middleware that knows each request: its id, its route template, its status and duration.

It is the outermost layer, so it sees every answer (a 413 of the body limit, a 401 of the bearer
check). What it knows lives in a context variable (`request_context`) for the request's task: log records made while
the request runs carry the request id and route (`app.observability.logs`), uvicorn's access line
included (uvicorn writes it from inside `send`, in the request's task), and the answer carries the
id in `X-Request-ID`. With metrics on it counts the request by route template, never by raw path.
"""

import os
import re
import time
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability import metrics
from app.observability.request_context import CURRENT, RequestInfo, current_request

REQUEST_ID_HEADER = "x-request-id"
# A request id from a proxy is kept when it looks like one; anything else is replaced.
_ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
UNMATCHED = "unmatched"
# The method label takes one of these or "other": a client may send any token as a method.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The path template of the route that serves `scope` ("/graphql", "/console/{path}"), or "unmatched"."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return _template(route)
        if match is Match.PARTIAL and partial is None:
            partial = route  # the path matched, the method did not (a 405)
    return _template(partial) if partial is not None else UNMATCHED


def _template(route: BaseRoute) -> str:
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    return f"{path}/{{path}}" if isinstance(route, Mount) else path


def _method(scope: Scope) -> str:
    method = scope.get("method", "")
    return method if method in _METHODS else "other"


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _ACCEPTED_REQUEST_ID.fullmatch(text):
                return text
            break
    return os.urandom(16).hex()


class RequestObservation:
    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute], count: bool = False) -> None:
        self.app = app
        self.routes = routes
        self.count = count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = RequestInfo(_request_id(scope), _method(scope), scope, self.routes)
        token = CURRENT.set(info)

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                info.status = message["status"]
                info.duration = time.perf_counter() - info.started
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", info.request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            CURRENT.reset(token)
            if self.count:
                status = str(info.status or 500)
                metrics.HTTP_REQUESTS.labels(info.route, info.method, status).inc()
                metrics.HTTP_DURATION.labels(info.route, info.method).observe(time.perf_counter() - info.started)


__all__ = ["RequestInfo", "RequestObservation", "current_request", "route_template"]
