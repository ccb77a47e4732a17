"""The arq worker: jobs called the way arq calls them (ctx from on_startup), and a real burst-mode worker."""

import functools
from datetime import timedelta

from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker
from starlette.applications import Starlette

from app.clock import utcnow
from app.graphql.ids import pk_of
from app.models import ManagementToken, StaleTokenReport
from app.settings import Settings
from app.usage import keys
from tests.support.api import Api
from tests.support.sql_statements import token_row
from workers import context, jobs
from workers.settings import WorkerSettings

VIEWER = "{ viewer { kind } }"


def _sweeping(settings: Settings) -> Settings:
    """The worker's settings when the API processes flush every 0.1 s (the sweep waits that long first)."""
    return settings.model_copy(update={"usage_flush_seconds": 0.1, "stale_sweep_settle_seconds": 0.1})


async def _old_token(api: Api, days: int) -> tuple[str, str]:
    owner = await api.sign_up()
    token_id, secret = await api.create_token(owner, ["VIEW_PROJECTS"])
    await ManagementToken.filter(id=pk_of(token_id, "ManagementToken")).update(
        created_at=utcnow() - timedelta(days=days)
    )
    return token_id, secret


async def test_stale_sweep_job_counts_uses_still_in_redis(
    redis_app: Starlette, redis_api: Api, redis_settings: Settings
) -> None:
    # given a token created 200 days ago, never used as far as the database knows,
    idle_id, _ = await _old_token(redis_api, 200)
    # and one equally old that was used a moment ago (the use still waits in Redis)
    used_id, used_secret = await _old_token(redis_api, 200)
    await redis_api.ok(VIEWER, token=used_secret)
    assert (await token_row(used_id)).last_used_at is None
    # when the sweep job runs with the ctx the worker's startup builds
    ctx: dict[str, object] = {"job_id": "cron:stale_sweep:42"}
    await context.startup(ctx, _sweeping(redis_settings))
    try:
        outcome = await jobs.stale_sweep(ctx)
        again = await jobs.stale_sweep(ctx)
    finally:
        await context.shutdown(ctx)
    # then the recently used token is not stale, the idle one is, and the replayed tick wrote nothing
    assert (await token_row(used_id)).stale_since is None
    assert (await token_row(used_id)).last_used_at is not None
    assert (await token_row(idle_id)).stale_since is not None
    assert outcome | {"sweep_id": None} == {
        "sweep_id": None,
        "reports": 1,
        "stale": 1,
        "flagged": 1,
        "revoked": 0,
        "expiring_api_keys": 0,
    }
    assert outcome["sweep_id"] == "cron:stale_sweep:42"
    assert again["reports"] == 0 and again["stale"] == 0


async def test_a_burst_worker_flushes_on_startup_and_runs_enqueued_sweeps(
    redis_app: Starlette, redis_api: Api, redis_settings: Settings, redis_url: str
) -> None:
    # given uses waiting in Redis and a stale token
    used_id, secret = await _old_token(redis_api, 10)
    await redis_api.ok(VIEWER, token=secret)
    idle_id, _ = await _old_token(redis_api, 100)
    redis_config = RedisSettings.from_dsn(redis_url)
    pool = await create_pool(redis_config)
    await pool.enqueue_job("stale_sweep", _job_id="sweep-from-queue")
    # when a real worker with the production functions and cron jobs runs in burst mode
    worker = Worker(
        functions=WorkerSettings.functions,
        cron_jobs=WorkerSettings.cron_jobs,
        redis_settings=redis_config,
        on_startup=functools.partial(context.startup, settings=_sweeping(redis_settings)),
        on_shutdown=context.shutdown,
        burst=True,
        poll_delay=0.05,
        handle_signals=False,
    )
    try:
        await worker.main()
    finally:
        await worker.close()
        await pool.aclose()
    # then the startup flush and the queued sweep both ran
    assert worker.jobs_failed == 0 and worker.jobs_complete >= 2
    assert (await token_row(used_id)).last_used_at is not None
    assert (await token_row(idle_id)).stale_since is not None
    assert await StaleTokenReport.filter(sweep_id="sweep-from-queue").count() == 1
    assert await redis_app.state.usage.buffer.redis.exists(*keys.ALL) == 0


def test_worker_settings_schedule_flush_and_sweep() -> None:
    # given the defaults (KEYWARD_USAGE_FLUSH_SECONDS=10, a daily sweep)
    by_name = {job.name: job for job in WorkerSettings.cron_jobs}
    # then the flush runs every 10 seconds and the sweep once a day, each tick once across workers
    assert by_name["flush_usage"].second == {0, 10, 20, 30, 40, 50} and by_name["flush_usage"].unique
    assert (by_name["stale_sweep"].hour, by_name["stale_sweep"].minute) == ({3}, {17})
    assert by_name["stale_sweep"].unique
    assert {f.__name__ for f in WorkerSettings.functions} == {"flush_usage", "stale_sweep", "deliver_webhooks"}
    # and webhook deliveries every KEYWARD_WEBHOOK_DELIVERY_SECONDS (5), each tick once across workers
    assert by_name["deliver_webhooks"].second == set(range(0, 60, 5)) and by_name["deliver_webhooks"].unique
