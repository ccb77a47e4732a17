"""Serving the metrics: GET /metrics in the API, a small HTTP server of its own in the worker.

Both answer in Prometheus's text format, optionally only to `Authorization: Bearer
<KEYWARD_METRICS_TOKEN>`. When PROMETHEUS_MULTIPROC_DIR is set (`keyward serve --workers N` sets
it), the answer merges the samples every worker process wrote there.
"""

import glob
import hmac
import os
import threading
from collections.abc import Callable
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, make_wsgi_app, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST, ThreadingWSGIServer
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import Response

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNAUTHORIZED_BODY = (
    b'{"errors": [{"message": "Send Authorization: Bearer <KEYWARD_METRICS_TOKEN>.", '
    b'"extensions": {"code": "UNAUTHENTICATED"}}]}'
)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def scrape_registry() -> CollectorRegistry:
    """This process's registry, or one that merges every process's files in multiprocess mode."""
    path = multiprocess_dir()
    if path is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=path)
    return registry


def authorized(header: str | None, token: SecretStr | None) -> bool:
    if token is None or not token.get_secret_value():  # unset, or set to nothing: no protection asked for
        return True
    expected = f"Bearer {token.get_secret_value()}"
    return header is not None and hmac.compare_digest(header.encode(), expected.encode())


def metrics_endpoint(token: SecretStr | None, before_scrape: Callable[[], None]) -> Callable[[Request], object]:
    """GET /metrics; `before_scrape` refreshes this process's gauges first."""

    async def endpoint(request: Request) -> Response:
        if not authorized(request.headers.get("authorization"), token):
            return Response(
                UNAUTHORIZED_BODY,
                status_code=401,
                media_type="application/json",
                headers={"WWW-Authenticate": 'Bearer realm="keyward-metrics"'},
            )
        before_scrape()
        return Response(generate_latest(scrape_registry()), media_type=CONTENT_TYPE_LATEST)

    return endpoint


def forget_dead_processes() -> None:
    """Drop the live-gauge files of processes that are gone (a worker uvicorn restarted, an earlier run)."""
    path = multiprocess_dir()
    if path is None:
        return
    for file in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        pid_text = os.path.basename(file).rsplit("_", 1)[-1].removesuffix(".db")
        if pid_text.isdigit() and not _alive(int(pid_text)):
            multiprocess.mark_process_dead(int(pid_text), path)


def mark_this_process_dead() -> None:
    path = multiprocess_dir()
    if path is not None:
        multiprocess.mark_process_dead(os.getpid(), path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        """Scrapes every few seconds are not worth a log line each."""


class MetricsServer:
    """The worker's metrics: prometheus-client's WSGI app behind the bearer check, on a thread of its own."""

    def __init__(self, host: str, port: int, token: SecretStr | None, before_scrape: Callable[[], None]) -> None:
        exposition = make_wsgi_app(REGISTRY)

        def guarded(environ: dict[str, object], start_response: Callable[..., object]) -> object:
            header = environ.get("HTTP_AUTHORIZATION")
            if not authorized(header if isinstance(header, str) else None, token):
                start_response(
                    "401 Unauthorized",
                    [("Content-Type", "application/json"), ("WWW-Authenticate", 'Bearer realm="keyward-metrics"')],
                )
                return [UNAUTHORIZED_BODY]
            before_scrape()
            return exposition(environ, start_response)

        # A WSGI app; typeshed wants its own StartResponse protocol for the callable.
        self._server = make_server(host, port, guarded, ThreadingWSGIServer, handler_class=_QuietHandler)  # type: ignore[arg-type]
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="keyward-metrics", daemon=True)

    def start(self) -> "MetricsServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
