"""What is known about the request being answered, for whatever runs inside it (log records, errors).

Kept free of heavy imports: the logging configuration imports it in every process at start-up.
"""

import contextvars
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestInfo:
    request_id: str
    method: str
    scope: Any  # the ASGI scope
    routes: Sequence[Any]  # the app's routes, to find the template the request matched
    started: float = field(default_factory=time.perf_counter)
    status: int | None = None
    duration: float | None = None  # seconds until the answer's status line
    _route: str | None = None

    @property
    def route(self) -> str:
        """Matched on first use only: a request nobody counts or logs in JSON never pays for it."""
        if self._route is None:
            from app.observability.requests import route_template

            self._route = route_template(self.routes, self.scope)
        return self._route


CURRENT: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar("keyward_request", default=None)


def current_request() -> RequestInfo | None:
    return CURRENT.get()
