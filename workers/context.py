"""What the worker's jobs share: settings, Tortoise, and the Redis usage buffer (arq's on_startup)."""

from typing import Any

from redis.asyncio import Redis
from tortoise import Tortoise

from app import db
from app.settings import Settings, get_settings
from app.usage.flush import flush
from app.usage.memory import MemoryUsageBuffer
from app.usage.redis_buffer import RedisUsageBuffer


async def startup(ctx: dict[str, Any], settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    ctx["settings"] = settings
    # In a process that already runs Tortoise (a test beside the app), share it instead of
    # replacing it, and leave closing it to its owner.
    ctx["owns_database"] = not Tortoise.is_inited()
    if ctx["owns_database"]:
        await Tortoise.init(config=db.tortoise_config(settings.database_url), _enable_global_fallback=True)
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url, decode_responses=True)
        ctx["usage_redis"] = redis
        # The worker has no request to protect: generous timeouts.
        ctx["usage"] = RedisUsageBuffer(redis, timeout=5.0)
    else:
        # `keyward stale-sweep` without Redis: nothing is buffered outside the API processes.
        ctx["usage"] = MemoryUsageBuffer()


async def shutdown(ctx: dict[str, Any]) -> None:
    try:
        if "usage" in ctx:
            await flush(ctx["usage"])  # a graceful stop leaves nothing waiting
    finally:
        redis = ctx.pop("usage_redis", None)
        if redis is not None:
            await redis.aclose()
        if ctx.pop("owns_database", False):
            await Tortoise.close_connections()
