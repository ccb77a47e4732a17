"""What is observed of each request: its id, its route template, its method label.

`app.http.envelope` observes every answer (a 413 of the body limit, a 401 of the bearer check).
What it knows lives in a context variable (`request_context`) for the request's task: log records
made while the request runs carry the request id and route (`app.observability.logs`), uvicorn's
access line included (uvicorn writes it from inside `send`, in the request's task), and the answer
carries the id in `X-Request-ID`. With metrics on it counts the request by route template, never by
raw path.
"""

import os
import re
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope

from app.observability.request_context import RequestInfo, current_request

# The header a proxy may send the request id in, and the answer carries it back in (ASGI: lower-case bytes).
REQUEST_ID_HEADER = b"x-request-id"
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


def method_label(scope: Scope) -> str:
    method = scope.get("method", "")
    return method if method in _METHODS else "other"


def accepted_request_id(value: bytes) -> str | None:
    """A proxy's `X-Request-ID`, kept when it looks like one."""
    text = value.decode("latin-1")
    return text if _ACCEPTED_REQUEST_ID.fullmatch(text) else None


def new_request_id() -> str:
    return os.urandom(16).hex()


__all__ = ["RequestInfo", "current_request", "route_template"]
