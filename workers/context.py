"""What the worker's jobs share: settings, Tortoise, and the Redis usage buffer (arq's on_startup)."""

import logging
from typing import Any

from redis.asyncio import Redis
from tortoise import Tortoise

from app import db
from app.credentials import epoch
from app.settings import Settings, get_settings
from app.usage.flush import flush
from app.usage.memory import MemoryUsageBuffer
from app.usage.redis_buffer import RedisUsageBuffer

log = logging.getLogger("keyward.worker")

# The worker has no request to protect: generous, but bounded, so a Redis that stops answering
# fails a job instead of hanging it.
REDIS_TIMEOUT_SECONDS = 5.0


async def startup(ctx: dict[str, Any], settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    ctx["settings"] = settings
    # In a process that already runs Tortoise (a test beside the app), share it instead of
    # replacing it, and leave closing it to its owner.
    ctx["owns_database"] = not Tortoise.is_inited()
    if ctx["owns_database"]:
        await Tortoise.init(config=db.tortoise_config(settings.database_url), _enable_global_fallback=True)
    if settings.redis_url:
        redis = Redis.from_url(
            settings.redis_url,
            decode_responses=True,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        ctx["usage_redis"] = redis
        epoch.use_redis(redis)  # the stale sweep's revocations bump the revocation epoch through it
        ctx["usage"] = RedisUsageBuffer(
            redis, timeout=REDIS_TIMEOUT_SECONDS, lease_seconds=settings.usage_flush_lease_seconds
        )
    else:
        # `keyward stale-sweep` without Redis: nothing is buffered outside the API processes.
        ctx["usage"] = MemoryUsageBuffer()


async def shutdown(ctx: dict[str, Any]) -> None:
    try:
        if "usage" in ctx:
            # A graceful stop leaves nothing waiting when it can; when Redis or the database is
            # away the uses stay in Redis (taken or not) for the next flush, so nothing is lost.
            try:
                await flush(ctx["usage"])
            except Exception as exc:
                log.warning(
                    "worker: final flush not done (%s); the uses stay in Redis for the next one", type(exc).__name__
                )
    finally:
        redis = ctx.pop("usage_redis", None)
        if redis is not None:
            await epoch.stop_using_redis(redis)
            await redis.aclose()
        if ctx.pop("owns_database", False):
            await Tortoise.close_connections()
