"""`arq workers.settings.WorkerSettings` (also `keyward worker`): the flush and sweep cron jobs.

Read from the environment at import: KEYWARD_REDIS_URL (required), KEYWARD_DATABASE_URL,
KEYWARD_USAGE_FLUSH_SECONDS (default 10), KEYWARD_STALE_SWEEP_CRON (default daily at 03:17 UTC) and
KEYWARD_WEBHOOK_DELIVERY_SECONDS (default 5; the webhook settings in app/settings.py).
`unique=True` lets several workers run side by side: each cron tick runs once, and the flush's
lease keeps a flush that outlives its tick from overlapping the next. `keyward worker` runs it as
a `ReconnectingWorker` (waits out Redis outages); `arq workers.settings.WorkerSettings` runs arq's
own Worker, which exits when Redis goes away.
"""

from typing import Any

from arq import cron
from arq.connections import RedisSettings

from app.cron import cron_options, every_seconds, is_off
from app.observability.startup import log_startup
from app.settings import get_settings
from workers import context
from workers import metrics as worker_metrics
from workers.jobs import deliver_webhooks, flush_usage, stale_sweep

_settings = get_settings()


async def on_startup(ctx: dict[str, Any]) -> None:
    await context.startup(ctx)
    log_startup(ctx["settings"], "worker")
    if ctx["settings"].metrics:
        ctx["metrics"] = worker_metrics.start(ctx["settings"], ctx)


async def on_shutdown(ctx: dict[str, Any]) -> None:
    try:
        await context.shutdown(ctx)
    finally:
        if "metrics" in ctx:
            await ctx.pop("metrics").stop()


class WorkerSettings:
    functions = [flush_usage, stale_sweep, deliver_webhooks]
    cron_jobs = [
        cron(
            flush_usage,
            name="flush_usage",
            unique=True,
            run_at_startup=True,
            **every_seconds(_settings.usage_flush_seconds),
        ),
    ]
    if not is_off(_settings.stale_sweep_cron):
        cron_jobs.append(cron(stale_sweep, name="stale_sweep", unique=True, **cron_options(_settings.stale_sweep_cron)))
    if _settings.webhook_delivery_seconds > 0:
        cron_jobs.append(
            cron(
                deliver_webhooks,
                name="deliver_webhooks",
                unique=True,
                run_at_startup=True,
                **every_seconds(_settings.webhook_delivery_seconds),
            )
        )
    on_startup = on_startup
    on_shutdown = on_shutdown
    # arq's default is 300 s; the sweep first waits for buffered uses to settle.
    job_timeout = max(300.0, _settings.sweep_settle_seconds + 600.0)
    redis_settings = RedisSettings.from_dsn(_settings.redis_url or "redis://127.0.0.1:6379/0")
    # Liveness for orchestrators: `arq --check workers.settings.WorkerSettings`.
    health_check_interval = 60
