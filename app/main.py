"""The Starlette application: GraphQL at /graphql, key verification, probes; Tortoise in the lifespan."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise

from app import background, cron, db, keyward_version
from app.credentials import epoch
from app.credentials.cache import CredentialCache
from app.credentials.checker import CredentialChecker
from app.db_outage import DatabaseOutage
from app.graphql.document_checks import share_the_interpreter
from app.graphql.schema import build_schema
from app.graphql.view import KeywardGraphQL
from app.http.access_log import redact_query_strings
from app.http.authentication import BearerTokenBackend, unauthenticated_response
from app.http.console import console_routes
from app.http.direct_route import DirectRoute
from app.http.envelope import HttpEnvelope
from app.http.graphiql import graphiql_routes
from app.http.health import Readiness, healthz
from app.http.leaks import leaks_endpoint
from app.http.openapi import openapi_json
from app.http.verify import VERIFY_PATH, verify_key
from app.observability import exposition, metrics
from app.observability.startup import log_startup, without_password
from app.observability.tracing import require_packages, tracing_middleware
from app.observability.usage_gauges import sample_every, sample_process_buffer
from app.services.stale_sweep import sweep_when_usage_settled
from app.services.webhook_delivery import DeliveryConfig, run_deliveries_every
from app.settings import Settings, get_settings
from app.usage.runtime import UsageRuntime

log = logging.getLogger("keyward")


class UnmigratedDatabase(RuntimeError):
    pass


# Collections of the youngest generation start after this many net allocations (Python's default: 700).
YOUNG_GENERATION_THRESHOLD = 10_000


def tune_garbage_collection() -> None:
    """Keep what startup built out of every later collection, and collect the young generation less often.

    Full collections then skip the start-up heap (modules, the schema, ORM metadata), and the objects of
    the requests in flight are promoted to older generations less often (docs/decisions/0005).
    Once per process: a second app in the same process (the tests) finds the heap frozen already.
    """
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()
        gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])


@asynccontextmanager
async def database_open(app: Starlette, settings: Settings) -> AsyncIterator[None]:
    """Tortoise for the app's lifetime, with one log line when it opens and one when it is closed."""
    timeouts = db.DatabaseTimeouts.from_settings(settings)
    async with RegisterTortoise(app, config=db.tortoise_config(settings.database_url, timeouts)):
        log.info("database: connected to %s", without_password(settings.database_url))
        yield
    log.info("database: connections closed")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    if settings.otel:
        require_packages()  # before anything imports them: one clear message when they are missing
    redact_query_strings()
    usage = UsageRuntime.from_settings(settings)
    credentials = CredentialChecker(usage, CredentialCache.from_settings(settings, keep_verified=usage.uses_redis))
    database = DatabaseOutage(db.ping)
    readiness = Readiness(database, usage)

    async def embedded_sweep(tick: object) -> None:
        """Without Redis there is no worker: the API process sweeps, once buffered uses have settled."""
        result = await sweep_when_usage_settled(
            usage.flush_now, settle_seconds=settings.sweep_settle_seconds, sweep_id=f"embedded:{tick}"
        )
        log.info(
            "stale sweep %s: %d stale, %d newly flagged, %d revoked",
            result.sweep_id,
            result.stale,
            result.flagged,
            result.revoked,
        )

    def sample_gauges() -> None:
        sample_process_buffer(usage.in_process)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        log_startup(settings, "API")
        if db.is_embedded(settings.database_url):
            # The embedded default migrates itself, so one command starts a working service.
            await db.migrate(settings.database_url)
        async with database_open(app, settings):
            pending = await db.pending_migrations()
            if pending:
                raise UnmigratedDatabase(
                    f"The database has {len(pending)} unapplied migration(s): run `keyward migrate` first."
                )
            await usage.start()
            tasks = []
            if usage.redis is not None:
                epoch.use_redis(usage.redis)  # this process's revoking mutations bump through it
            if settings.metrics:
                exposition.forget_dead_processes()
                metrics.BUILD_INFO.labels(keyward_version()).set(1)
                tasks.append(background.start(sample_every(sample_gauges), "metrics sampler"))
            if not usage.uses_redis:
                tasks.append(background.start(cron.run_on_schedule(settings.stale_sweep_cron, embedded_sweep), "sweep"))
                tasks.append(
                    background.start(
                        run_deliveries_every(settings, DeliveryConfig.from_settings(settings), database),
                        "webhook deliveries",
                    )
                )
            tune_garbage_collection()
            share_the_interpreter()
            try:
                yield
            finally:
                if usage.redis is not None:
                    await epoch.stop_using_redis(usage.redis)
                try:
                    await background.stop(tasks)
                    await readiness.close()
                    await database.close()
                finally:
                    # Last flush (embedded) or last hand-over to Redis, while the database is still open,
                    # whatever happened to the other steps of the shutdown.
                    await usage.stop()
                    if settings.metrics:
                        exposition.mark_this_process_dead()

    graphql_app = KeywardGraphQL(build_schema(settings), graphql_ide="graphiql" if settings.introspection else None)
    authenticated_graphql = AuthenticationMiddleware(
        graphql_app, backend=BearerTokenBackend(credentials), on_error=unauthenticated_response
    )
    routes = [
        # First: the router tries routes in order, and verify is what data-plane services call.
        Route(VERIFY_PATH, verify_key, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readiness.answer),
        Route("/openapi.json", openapi_json),
        Route("/v1/leaks", leaks_endpoint(settings.leaks_rate_limit), methods=["POST"]),
        Route("/graphql", authenticated_graphql, methods=["GET", "POST"]),
        *console_routes(),
        *(graphiql_routes() if settings.introspection else []),
    ]
    if settings.metrics:
        routes.append(Route("/metrics", exposition.metrics_endpoint(settings.metrics_token, sample_gauges)))
    application = Starlette(
        routes=routes,
        middleware=[
            # Tracing outermost: its spans see every answer, the envelope's 413 and 503 included.
            *(tracing_middleware(routes) if settings.otel else []),
            Middleware(
                HttpEnvelope,
                routes=routes,
                count=settings.metrics,
                max_body_bytes=settings.max_body_bytes,
                outage=database,
            ),
            Middleware(DirectRoute, method="POST", path=VERIFY_PATH, endpoint=verify_key),
        ],
        lifespan=lifespan,
    )
    application.state.usage = usage
    application.state.credentials = credentials
    application.state.database = database
    return application
