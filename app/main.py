"""The Starlette application: GraphQL at /graphql, key verification, probes; Tortoise in the lifespan."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise

from app import db
from app.graphql.schema import build_schema
from app.graphql.view import KeywardGraphQL
from app.http.authentication import BearerTokenBackend, unauthenticated_response
from app.http.console import console_routes
from app.http.health import healthz, readyz
from app.http.limits import BodySizeLimit
from app.http.verify import verify_key
from app.settings import Settings, get_settings

log = logging.getLogger("keyward")


class UnmigratedDatabase(RuntimeError):
    pass


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if db.is_embedded(settings.database_url):
            # The embedded default migrates itself, so one command starts a working service.
            await db.migrate(settings.database_url)
        async with RegisterTortoise(app, config=db.tortoise_config(settings.database_url)):
            pending = await db.pending_migrations()
            if pending:
                raise UnmigratedDatabase(
                    f"The database has {len(pending)} unapplied migration(s): run `keyward migrate` first."
                )
            yield

    graphql_app = KeywardGraphQL(
        build_schema(settings), graphql_ide="graphiql" if settings.introspection else None
    )
    authenticated_graphql = AuthenticationMiddleware(
        graphql_app, backend=BearerTokenBackend(), on_error=unauthenticated_response
    )
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/v1/keys/verify", verify_key, methods=["POST"]),
            Route("/graphql", authenticated_graphql, methods=["GET", "POST"]),
            *console_routes(),
        ],
        middleware=[Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)],
        lifespan=lifespan,
    )
