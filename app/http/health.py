"""Probes for orchestrators: /healthz (the process answers), /readyz (the database, and Redis, answer).

/readyz answers within `READY_WITHIN_SECONDS` whatever the database and Redis do (stopped,
frozen, slow): it waits for the probes that long and no longer; a probe still running then counts
as "unavailable" and is shared by the next calls instead of being started again.

Only the database decides readiness (503). Redis away is 200 with `"status": "degraded"`: every
request is still served correctly (uses are kept in process and handed back later), and since all
API processes share one Redis, failing readiness for it would take every replica out of the load
balancer at once, turning a degraded usage buffer into a full outage.
"""

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse

from app.db_outage import DatabaseOutage
from app.usage.runtime import UsageRuntime

READY_WITHIN_SECONDS = 0.5


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


class Readiness:
    def __init__(self, database: DatabaseOutage, usage: UsageRuntime) -> None:
        self.database = database
        self.usage = usage
        self._redis_probe: asyncio.Task[str | None] | None = None

    def _probe_redis(self) -> "asyncio.Task[str | None]":
        if self._redis_probe is None or self._redis_probe.done():
            self._redis_probe = asyncio.create_task(self.usage.probe_redis(), name="keyward-redis-probe")
        return self._redis_probe

    async def answer(self, request: Request) -> JSONResponse:
        database = self.database.probe()
        redis = self._probe_redis() if self.usage.uses_redis else None
        await asyncio.wait([task for task in (database, redis) if task is not None], timeout=READY_WITHIN_SECONDS)
        database_ok = database.done() and not database.cancelled() and database.result()
        body = {"status": "ok", "database": "ok" if database_ok else "unavailable", "redis": "not configured"}
        if redis is not None:
            redis_ok = redis.done() and not redis.cancelled() and redis.exception() is None and redis.result() == "ok"
            body["redis"] = "ok" if redis_ok else "unavailable"
            body["usage"] = "redis" if redis_ok else "in process"
        if not database_ok:
            body["status"] = "unavailable"
        elif body["redis"] == "unavailable":
            body["status"] = "degraded"
        return JSONResponse(body, status_code=200 if database_ok else 503)

    async def close(self) -> None:
        if self._redis_probe is not None and not self._redis_probe.done():
            self._redis_probe.cancel()
            await asyncio.gather(self._redis_probe, return_exceptions=True)
