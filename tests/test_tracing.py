"""KEYWARD_OTEL=true: a server span per request named by route, strawberry's GraphQL spans inside the
same trace, and no secret (query string, inline document, argument values) in any span. Spans are
caught by the OpenTelemetry SDK's in-memory exporter."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.main import create_app
from app.observability.tracing import MISSING
from app.settings import Settings
from tests.support.running_app import CLIENT_IP

SECRET = "hunter2-never-in-a-span"
_exporter = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider (set once per process, as OpenTelemetry allows), with our exporter."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
        trace.set_tracer_provider(provider)
    _exporter.clear()
    yield _exporter
    _exporter.clear()


def _all_text(span: ReadableSpan) -> str:
    events = " ".join(str(event.attributes) for event in span.events)
    return f"{span.name} {dict(span.attributes or {})} {events}"


async def test_requests_and_graphql_operations_are_traced_without_secrets(
    settings: Settings, spans: InMemorySpanExporter
) -> None:
    app = create_app(settings.model_copy(update={"otel": True}))
    transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 40000))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=transport, base_url="http://keyward.test") as client:
            ping = await client.post("/graphql", json={"query": "query Ping { __typename }"})
            log_in = await client.post(
                "/graphql",
                json={
                    "query": 'mutation LogIn { logIn(input: {email: "nobody@example.com", password: "'
                    + SECRET
                    + '"}) { sessionToken userErrors { code } } }'
                },
            )
            # the app still gets its query string (the instrumentation does not)
            over_get = await client.get("/graphql", params={"query": "{ __typename }", "token": SECRET})
            probe = await client.get("/healthz", params={"token": SECRET})
    assert ping.status_code == 200 and ping.json()["data"]["__typename"] == "Query", ping.text
    assert log_in.status_code == 200
    assert over_get.status_code == 200 and over_get.json()["data"] == {"__typename": "Query"}
    assert probe.status_code == 200

    finished = spans.get_finished_spans()
    servers = [span for span in finished if span.kind is trace.SpanKind.SERVER and span.name.startswith("POST")]
    assert {span.name for span in servers} == {"POST /graphql"}
    assert all(span.attributes and span.attributes.get("http.route") == "/graphql" for span in servers)
    operation = next(span for span in finished if span.name == "GraphQL Query: Ping")
    server = next(span for span in servers if span.context.trace_id == operation.context.trace_id)
    assert operation.parent is not None
    resolvers = [span for span in finished if span.context.trace_id == server.context.trace_id and span is not server]
    assert any(span.name == "GraphQL Parsing" for span in resolvers)
    assert any(span.name == "GraphQL Resolving: logIn" for span in finished)  # a resolver's span
    assert any(span.name.startswith("GET /healthz") for span in finished)
    for span in finished:
        assert SECRET not in _all_text(span), span.name
        assert "query" not in (span.attributes or {}), span.name


def test_without_the_packages_the_app_refuses_to_start_and_says_what_to_install(tmp_path: Path) -> None:
    # given: a Python where the OpenTelemetry packages cannot be imported (as without the otel extra)
    script = f"""
import importlib.abc, sys
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, NotInstalled())
from app.main import create_app
from app.observability.tracing import MISSING
from app.settings import Settings
create_app(Settings(database_url="sqlite://{tmp_path / "k.sqlite3"}", otel=True))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == f"app.observability.tracing.TracingUnavailable: {MISSING}"
