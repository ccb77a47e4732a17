"""The one ASGI layer around every HTTP answer: who the request is, what every answer carries, what
no request may do.

It does four jobs, each defined in its own module, in one pass over the request's headers and one
wrapper of `send` (four layers, one per job, cost verify a fifth of its time; docs/decisions/0011):

- **observation** (`app.observability.requests`): the request id (a proxy's `X-Request-ID` when it
  looks like one) in the request's context for log records and in the answer's `X-Request-ID`, and,
  with metrics on, the request counted by route template, status and duration;
- **security headers** (`app.http.security_headers`): `nosniff` on every answer, `no-store` on JSON;
- **body size** (`app.http.limits`): a body over the bound is refused with 413 before anything
  parses it, whether its `Content-Length` says so or its chunks add up to it;
- **database outage** (`app.http.unavailable`): a database error escaping an endpoint becomes a JSON
  503 with Retry-After, and the outage is watched for recovery.

Every answer passes through the same `send`, so the 413 and the 503 written here carry the request
id and the security headers like any other.
"""

import time
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db_errors import is_database_unavailable
from app.db_outage import DatabaseOutage
from app.http.limits import BodyTooLarge, bounded_receive, declared_length_refused, too_large_response
from app.http.security_headers import with_security_headers
from app.http.unavailable import unavailable_response
from app.observability import metrics
from app.observability.request_context import CURRENT, RequestInfo
from app.observability.requests import REQUEST_ID_HEADER, accepted_request_id, method_label, new_request_id


class HttpEnvelope:
    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Sequence[BaseRoute],
        count: bool,
        max_body_bytes: int,
        outage: DatabaseOutage,
    ) -> None:
        self.app = app
        self.routes = routes
        self.count = count
        self.max_body_bytes = max_body_bytes
        self.outage = outage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        proxy_request_id = None
        declared = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == REQUEST_ID_HEADER and proxy_request_id is None:
                proxy_request_id = value
            elif name == b"transfer-encoding":
                chunked = True
        request_id = accepted_request_id(proxy_request_id) if proxy_request_id is not None else None
        info = RequestInfo(request_id or new_request_id(), method_label(scope), scope, self.routes)
        request_id_header = (REQUEST_ID_HEADER, info.request_id.encode())
        token = CURRENT.set(info)
        started = False

        async def envelope_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                info.status = message["status"]
                info.duration = time.perf_counter() - info.started
                headers = with_security_headers(message.get("headers", ()))
                headers.append(request_id_header)
                message["headers"] = headers
            await send(message)

        try:
            if declared is not None and declared_length_refused(declared, self.max_body_bytes):
                await too_large_response(self.max_body_bytes)(scope, receive, envelope_send)
                return
            self.outage.watch_for_recovery()
            # A declared length without chunks bounds the body already: the server reads no more than it.
            if declared is None or chunked:
                receive = bounded_receive(receive, self.max_body_bytes)
            try:
                await self.app(scope, receive, envelope_send)
            except BodyTooLarge:
                if not started:
                    await too_large_response(self.max_body_bytes)(scope, receive, envelope_send)
            except Exception as error:
                if started or not is_database_unavailable(error):
                    raise
                self.outage.failed(error)
                await unavailable_response(Headers(scope=scope).get("accept"))(scope, receive, envelope_send)
        finally:
            CURRENT.reset(token)
            if self.count:
                status = str(info.status or 500)
                metrics.HTTP_REQUESTS.labels(info.route, info.method, status).inc()
                metrics.HTTP_DURATION.labels(info.route, info.method).observe(time.perf_counter() - info.started)
