"""The baseline of the batching row: the real app, but every use is an UPDATE of last_used_at right away.

The seam is the usage buffer behind `app.state.usage` (`UsageRuntime.buffer`): the bearer
authentication calls `usage.record(...)`, which calls `buffer.record(use)`. Here that buffer is
replaced by one whose `record` runs a single-row UPDATE (with the same "never backwards" guard and
stale-flag clearing the flush applies) and which never holds anything to flush. Everything else
(authentication, schema, resolvers, uvicorn flags) is the real app's. Bench only; needs PostgreSQL.
"""

from starlette.applications import Starlette
from tortoise.connection import get_connection

from app.main import create_app as create_real_app
from app.usage.model import UsageKind, Use

_UPDATES = {
    UsageKind.MANAGEMENT_TOKEN: (
        "UPDATE management_token SET last_used_at = $1, last_used_ip = $2, stale_since = NULL "
        "WHERE id = $3 AND (last_used_at IS NULL OR last_used_at < $1)"
    ),
    UsageKind.API_KEY: (
        "UPDATE api_key SET last_used_at = $1, last_used_ip = $2 "
        "WHERE id = $3 AND (last_used_at IS NULL OR last_used_at < $1)"
    ),
}


class PerRequestUpdate:
    """A usage "buffer" that buffers nothing: one UPDATE per recorded use, on the request path."""

    def __len__(self) -> int:
        return 0

    async def record(self, use: Use, expect: str | None = None) -> str | None:
        """One UPDATE; no revocation epoch (so, as without Redis, nothing is answered from a cache)."""
        await get_connection("default").execute_query(_UPDATES[use.kind], [use.at, use.ip, use.id])
        return None

    # The flush side (UsageSource): there is never anything to take.
    async def take(self) -> None:
        return None

    async def complete(self, batch: object) -> None:
        """Nothing is ever taken."""

    async def abandon(self, batch: object) -> None:
        """Nothing is ever taken."""


def create_app() -> Starlette:
    application = create_real_app()
    application.state.usage.buffer = PerRequestUpdate()
    return application
