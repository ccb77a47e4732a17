"""OpenTelemetry traces (KEYWARD_OTEL=true, with the `keyward[otel]` extra installed).

Each request is a server span from the OpenTelemetry ASGI instrumentation, named by its route
template; strawberry's OpenTelemetry extension adds the GraphQL operation's spans beneath it
(`app.graphql.tracing`). Neither sees a secret: the instrumentation gets the request without its
query string (a token or an inline `logIn` can sit there), and the GraphQL spans carry neither
the document nor argument values.

Spans go to the tracer provider the process already has (set by the operator's own code or
`opentelemetry-instrument`), or else to an OTLP/HTTP exporter configured by the standard
OTEL_EXPORTER_OTLP_* and OTEL_SERVICE_NAME variables.
"""

import importlib.util
import os
from collections.abc import Sequence
from typing import Any

from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from app.observability.requests import route_template

MISSING = (
    "KEYWARD_OTEL is set, but the OpenTelemetry packages are not installed: pip install 'keyward[otel]' "
    "(or unset KEYWARD_OTEL)"
)
_HIDDEN_QUERY = "keyward.query_string"
REDACTED_QUERY = b"redacted"


class TracingUnavailable(RuntimeError):
    pass


def require_packages() -> None:
    for module in ("opentelemetry.sdk", "opentelemetry.instrumentation.asgi", "opentelemetry.exporter.otlp"):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # a parent package is missing
            found = False
        if not found:
            raise TracingUnavailable(MISSING)


def ensure_tracer_provider() -> None:
    """Keep a tracer provider someone set; else export over OTLP/HTTP, batched."""
    from opentelemetry import trace

    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "keyward")})
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


class HideQueryString:
    """Before the instrumentation: it records URLs with their query string, so it gets a placeholder."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            scope = {**scope, _HIDDEN_QUERY: scope["query_string"], "query_string": REDACTED_QUERY}
        await self.app(scope, receive, send)


class RestoreQueryString:
    """After the instrumentation: the app gets the request as it came."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _HIDDEN_QUERY in scope:
            scope = {**scope, "query_string": scope[_HIDDEN_QUERY]}
            del scope[_HIDDEN_QUERY]
        await self.app(scope, receive, send)


def tracing_middleware(routes: Sequence[BaseRoute]) -> list[Middleware]:
    """The three layers, outermost first, for Starlette's middleware list."""
    require_packages()
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    ensure_tracer_provider()

    def span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
        route = route_template(routes, scope)
        return f"{scope.get('method', 'HTTP')} {route}", {"http.route": route}

    return [
        Middleware(HideQueryString),
        Middleware(OpenTelemetryMiddleware, default_span_details=span_details),
        Middleware(RestoreQueryString),
    ]
